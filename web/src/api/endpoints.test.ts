import { describe, expect, it } from "vitest";
import { toMovers, toPortfolio } from "./endpoints";

// Portfolio and movers are moving to the `{data, meta}` envelope (issue 13): the accessors read both.
const holding = { id: 1, slug: "op-01-box", name: "OP-01 Box", quantity: 2 };
const totals = { cost_basis: 200, value: 300, pnl_usd: 100, pnl_pct: 50 };

describe("envelope accessors", () => {
  it("read the portfolio in either shape", () => {
    const today = { holdings: [holding], totals, by_game: { "one-piece": totals } };
    const envelope = { data: [holding], meta: { totals, by_game: { "one-piece": totals }, total: 1 } };
    expect(toPortfolio(today)).toEqual(today);
    expect(toPortfolio(envelope)).toEqual(today);
  });
  it("read the movers in either shape", () => {
    const up = { place: 1, change_pct: 12 };
    const down = { place: 1, change_pct: -9 };
    expect(toMovers({ gainers: [up], losers: [down] })).toEqual({ gainers: [up], losers: [down] });
    const envelope = { data: [{ ...up, direction: "gainer" }, { ...down, direction: "loser" }], meta: {} };
    expect(toMovers(envelope)).toEqual({ gainers: [{ ...up, direction: "gainer" }], losers: [{ ...down, direction: "loser" }] });
  });
});
