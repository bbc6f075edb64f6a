import { describe, expect, it } from "vitest";
import { daysBefore, money, pct, trend } from "./format";

describe("format", () => {
  it("shows money in dollars and a dash for missing values", () => {
    expect(money(1234.5)).toBe("$1,234.50");
    expect(money(null)).toBe("—");
  });
  it("signs percentages and colours them by direction", () => {
    expect(pct(3.14159)).toBe("+3.1 %");
    expect(pct(-2)).toBe("-2.0 %");
    expect(trend(-0.1)).toBe("down");
    expect(trend(0)).toBe("");
  });
  it("counts days back in UTC across month ends", () => {
    expect(daysBefore("2026-03-01", 1)).toBe("2026-02-28");
    expect(daysBefore("2026-03-01", 365)).toBe("2025-03-01");
  });
});
