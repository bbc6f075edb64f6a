import { fireEvent, render, screen } from "@testing-library/preact";
import { describe, expect, it } from "vitest";
import { ApiError } from "../api/client";
import { BoxImage } from "./BoxImage";
import { RankChange } from "./RankChange";
import { ErrorBox, errorText } from "./States";

describe("BoxImage", () => {
  it("shows the placeholder with the set code when there is no image", () => {
    const { container } = render(<BoxImage name="OP-13 Booster Box" code="OP-13" />);
    expect(container.querySelector("img")).toBeNull();
    expect(container.textContent).toBe("OP-13");
  });
  it("falls back to the placeholder when the image fails to load, and sends no referrer", () => {
    const { container } = render(<BoxImage src="https://images.example/box.jpg" name="Box" code="X1" />);
    const img = container.querySelector("img")!;
    expect(img.getAttribute("referrerpolicy")).toBe("no-referrer");
    fireEvent.error(img);
    expect(container.querySelector("img")).toBeNull();
    expect(container.textContent).toBe("X1");
  });
});

describe("RankChange", () => {
  it("says the direction to screen readers, not only with an arrow", () => {
    render(<RankChange change="up" before={7} period="yesterday" />);
    expect(screen.getByText("up since yesterday, was 7")).toBeTruthy();
  });
  it("marks boxes new to the ranking", () => {
    const { container } = render(<RankChange change="new" period="7 days ago" />);
    expect(container.textContent).toContain("new");
  });
});

describe("errors", () => {
  it("tells a rate-limited user when it tries again, without a retry button", () => {
    const error = new ApiError(429, "Too many requests right now.", "rate_limited", undefined, 12);
    const { container } = render(<ErrorBox error={error} retry={() => undefined} />);
    expect(container.textContent).toContain("trying again in 12 s");
    expect(container.querySelector("button")).toBeNull();
  });
  it("names the fields of a validation error", () => {
    const error = new ApiError(422, "The request is not valid; see details.", "validation_error", {
      json: { price: ["Must be greater than or equal to 0.01."] },
    });
    expect(errorText(error)).toBe("Please check: price: Must be greater than or equal to 0.01.");
  });
});
