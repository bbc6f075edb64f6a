import { describe, expect, it } from "vitest";
import { toMovers, toPortfolio, type Holding, type Mover } from "./endpoints";

// Portfolio and movers come in the `{data, meta}` envelope; the pages want them in one piece.
const holding = { id: 1, slug: "op-01-box", name: "OP-01 Box", quantity: 2 } as Holding;
const totals = { cost_basis: 200, value: 300, pnl_usd: 100, pnl_pct: 50 };

describe("envelope accessors", () => {
  it("put the portfolio's holdings and its totals together", () => {
    const envelope = { data: [holding], meta: { totals, by_game: { "one-piece": totals }, total: 1, limit: 1, offset: 0 } };
    expect(toPortfolio(envelope as never)).toEqual({ holdings: [holding], totals, by_game: { "one-piece": totals } });
  });
  it("split the movers into gainers and losers", () => {
    const up = { place: 1, change_pct: 12, direction: "gainer" } as unknown as Mover;
    const down = { place: 1, change_pct: -9, direction: "loser" } as unknown as Mover;
    expect(toMovers({ data: [up, down] })).toEqual({ gainers: [up], losers: [down] });
  });
});
