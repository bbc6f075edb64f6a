import { describe, expect, it } from "vitest";
import { location, match, navigate, withQuery } from "./router";

window.scrollTo = () => undefined; // jsdom has no layout to scroll

describe("router", () => {
  it("matches patterns with parameters, and only whole paths", () => {
    expect(match("/box/:ref", "/box/op-13-booster-box")).toEqual({ ref: "op-13-booster-box" });
    expect(match("/box/:ref", "/box/a/b")).toBeNull();
    expect(match("/", "/market")).toBeNull();
    expect(match("/", "/")).toEqual({});
  });
  it("changes query parameters and drops emptied ones", () => {
    navigate("/?game=mtg&offset=25");
    expect(location.get().query.get("game")).toBe("mtg");
    expect(withQuery({ offset: null, sort: "floor_price" })).toBe("/?game=mtg&sort=floor_price");
    expect(withQuery({ game: "" , offset: null})).toBe("/");
  });
});
