import { fireEvent, render, screen } from "@testing-library/preact";
import { describe, expect, it } from "vitest";
import { location, navigate } from "../router";
import { Pager } from "./Leaderboard";

window.scrollTo = () => undefined; // jsdom has no layout to scroll

describe("Pager", () => {
  it("pages through the results in the URL, and stops at both ends", () => {
    navigate("/?game=mtg");
    const { rerender } = render(<Pager offset={0} total={60} />);
    expect(screen.getByText("Page 1 of 3")).toBeTruthy();
    expect((screen.getByText("Previous") as HTMLButtonElement).disabled).toBe(true);
    fireEvent.click(screen.getByText("Next"));
    expect(location.get().query.get("offset")).toBe("25");
    expect(location.get().query.get("game")).toBe("mtg");
    rerender(<Pager offset={50} total={60} />);
    expect(screen.getByText("Page 3 of 3")).toBeTruthy();
    expect((screen.getByText("Next") as HTMLButtonElement).disabled).toBe(true);
    fireEvent.click(screen.getByText("Previous"));
    expect(location.get().query.get("offset")).toBe("25");
  });
});
