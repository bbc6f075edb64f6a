import { getGames, getLeaderboard, sparklineUrl, type LeaderboardQuery, type SortKey } from "../api/endpoints";
import { BoxImage } from "../components/BoxImage";
import { RankChange } from "../components/RankChange";
import { Empty, Show } from "../components/States";
import { money, moneyShort, num, pct, trend, label } from "../format";
import { useApi, useTitle } from "../hooks";
import { Link, navigate, useLocation, withQuery } from "../router";

export const PAGE_SIZE = 25;
export const SORTS: { key: SortKey; text: string }[] = [
  { key: "volume_ema_7d", text: "Trading activity (7d EMA)" },
  { key: "volume_24h", text: "Volume 24h" },
  { key: "volume_7d", text: "Volume 7d" },
  { key: "volume_30d", text: "Volume 30d" },
  { key: "floor_price", text: "Floor price" },
  { key: "market_price", text: "Market price" },
  { key: "floor_change_pct_1d", text: "Floor change 1d" },
  { key: "floor_change_pct_7d", text: "Floor change 7d" },
  { key: "floor_change_pct_30d", text: "Floor change 30d" },
  { key: "units_sold_7d", text: "Units sold 7d" },
  { key: "visible_market_cap", text: "Visible market cap" },
  { key: "liquidity_score", text: "Liquidity" },
  { key: "days_to_plus_20pct", text: "Days to +20 %" },
  { key: "expected_days_to_sell", text: "Days to sell" },
  { key: "active_listings", text: "Active listings" },
  { key: "momentum", text: "Momentum" },
  { key: "release_date", text: "Release date" },
];
export const PRODUCT_TYPES = [
  "booster_box",
  "play_booster_box",
  "collector_booster_box",
  "enhanced_booster_box",
  "elite_trainer_box",
];

export function Leaderboard() {
  useTitle("Leaderboard");
  const { query } = useLocation();
  const params: LeaderboardQuery = {
    game: query.get("game") || undefined,
    product_type: query.get("type") || undefined,
    sort: (query.get("sort") as SortKey) || undefined,
    direction: (query.get("dir") as "asc" | "desc") || undefined,
    date: query.get("date") || undefined,
    limit: PAGE_SIZE,
    offset: Number(query.get("offset") || 0),
  };
  const games = useApi(getGames, []);
  const page = useApi(() => getLeaderboard(params), [query.toString()]);
  const set = (changes: Record<string, string | number | null>) =>
    navigate(withQuery({ offset: null, ...changes }), { keepScroll: true });

  return (
    <section class="page">
      <h1>Booster box leaderboard</h1>
      <form class="filters" aria-label="Leaderboard filters" onSubmit={(e) => e.preventDefault()}>
        <label>
          Game
          <select value={params.game ?? ""} onChange={(e) => set({ game: e.currentTarget.value })} name="game">
            <option value="">All games</option>
            {games.data?.map((g) => (
              <option value={g.code}>{g.name}</option>
            ))}
          </select>
        </label>
        <label>
          Product type
          <select value={params.product_type ?? ""} onChange={(e) => set({ type: e.currentTarget.value })} name="type">
            <option value="">All types</option>
            {PRODUCT_TYPES.map((t) => (
              <option value={t}>{label(t)}</option>
            ))}
          </select>
        </label>
        <label>
          Sort by
          <select value={params.sort ?? "volume_ema_7d"} onChange={(e) => set({ sort: e.currentTarget.value })} name="sort">
            {SORTS.map((s) => (
              <option value={s.key}>{s.text}</option>
            ))}
          </select>
        </label>
        <label>
          Order
          <select value={params.direction ?? ""} onChange={(e) => set({ dir: e.currentTarget.value })} name="dir">
            <option value="">Default</option>
            <option value="desc">Highest first</option>
            <option value="asc">Lowest first</option>
          </select>
        </label>
        <label>
          Day
          <input
            type="date"
            name="date"
            value={params.date ?? page.data?.meta.day ?? ""}
            max={page.data?.meta.day ?? undefined}
            onChange={(e) => set({ date: e.currentTarget.value })}
          />
        </label>
      </form>
      <Show loaded={page} label="Loading the leaderboard…">
        {(result) =>
          result.data.length === 0 ? (
            <Empty>No boxes match these filters{params.date ? " on that day" : ""}.</Empty>
          ) : (
            <>
              <p class="muted">
                {result.meta.total} boxes · {result.meta.day ? `day ${result.meta.day} (UTC)` : "no computed day yet"}
              </p>
              <div class="table-wrap" tabIndex={0}>
                <table class="leaderboard" data-testid="leaderboard">
                  <thead>
                    <tr>
                      <th scope="col">Rank</th>
                      <th scope="col">Box</th>
                      <th scope="col" class="num">Floor</th>
                      <th scope="col" class="num">1d</th>
                      <th scope="col" class="num hide-sm">7d</th>
                      <th scope="col" class="num hide-sm">Volume 7d</th>
                      <th scope="col" class="num hide-sm">Sold 7d</th>
                      <th scope="col" class="num hide-sm">Liquidity</th>
                      <th scope="col" class="hide-sm">30 days</th>
                    </tr>
                  </thead>
                  <tbody>
                    {result.data.map((row) => (
                      <tr key={row.product.id}>
                        <td class="rank">
                          <span class="rank-number">{row.rank ?? "—"}</span>
                          <RankChange change={row.change_1d} before={row.rank_1d_ago} period="yesterday" />
                          <RankChange change={row.change_7d} before={row.rank_7d_ago} period="7 days ago" />
                        </td>
                        <td class="box-cell">
                          <BoxImage src={row.product.image_url} name={row.product.name} code={row.product.set_code} size={40} />
                          <span>
                            <Link href={`/box/${row.product.slug}`} class="box-name">
                              {row.product.name}
                            </Link>
                            <span class="muted small">{row.product.game}</span>
                          </span>
                        </td>
                        <td class="num">{money(row.metrics?.floor_price)}</td>
                        <td class={`num ${trend(row.metrics?.floor_change_pct_1d)}`}>{pct(row.metrics?.floor_change_pct_1d)}</td>
                        <td class={`num hide-sm ${trend(row.metrics?.floor_change_pct_7d)}`}>{pct(row.metrics?.floor_change_pct_7d)}</td>
                        <td class="num hide-sm">{moneyShort(row.metrics?.volume_7d)}</td>
                        <td class="num hide-sm">{num(row.metrics?.units_sold_7d)}</td>
                        <td class="num hide-sm">{row.metrics?.liquidity_label ?? "—"}</td>
                        <td class="hide-sm">
                          <img
                            class="sparkline"
                            src={sparklineUrl(row.product.id)}
                            width={120}
                            height={32}
                            loading="lazy"
                            alt={`Floor price over 30 days for ${row.product.name}`}
                          />
                        </td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
              <Pager offset={result.meta.offset} total={result.meta.total} />
            </>
          )
        }
      </Show>
    </section>
  );
}

export function Pager({ offset, total, size = PAGE_SIZE }: { offset: number; total: number; size?: number }) {
  const page = Math.floor(offset / size) + 1;
  const pages = Math.max(1, Math.ceil(total / size));
  const go = (to: number) => navigate(withQuery({ offset: to || null }));
  return (
    <nav class="pager" aria-label="Pages">
      <button type="button" disabled={offset === 0} onClick={() => go(Math.max(0, offset - size))}>
        Previous
      </button>
      <span>
        Page {page} of {pages}
      </span>
      <button type="button" disabled={offset + size >= total} onClick={() => go(offset + size)}>
        Next
      </button>
    </nav>
  );
}
