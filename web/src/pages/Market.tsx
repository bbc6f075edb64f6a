import { useMemo } from "preact/hooks";
import { getGames, getIndexHistory, getMarketIndex, getMovers, type Mover } from "../api/endpoints";
import { Chart } from "../components/Chart";
import { Empty, Show } from "../components/States";
import { money, num, pct, trend } from "../format";
import { useApi, useTitle } from "../hooks";
import { Link, navigate, useLocation, withQuery } from "../router";

const PERIODS = ["1d", "7d", "30d"];

export function Market() {
  useTitle("Market");
  const { query } = useLocation();
  const scope = query.get("scope") || "all";
  const period = PERIODS.includes(query.get("period") ?? "") ? query.get("period")! : "7d";
  const games = useApi(getGames, []);
  const index = useApi(() => getMarketIndex(scope), [scope]);
  const history = useApi(() => getIndexHistory(scope), [scope]);
  const movers = useApi(() => getMovers("floor", period), [period]);
  const days = useMemo(() => history.data?.map((p) => p.day) ?? [], [history.data]);
  const series = useMemo(
    () => [{ label: "Index", values: history.data?.map((p) => p.index_value ?? null) ?? [], color: "#1d4ed8" }],
    [history.data],
  );
  return (
    <section class="page">
      <h1>Market</h1>
      <label class="inline">
        Market
        <select value={scope} onChange={(e) => navigate(withQuery({ scope: e.currentTarget.value === "all" ? null : e.currentTarget.value }), { keepScroll: true })}>
          <option value="all">All games</option>
          {games.data?.map((g) => (
            <option value={g.code}>{g.name}</option>
          ))}
        </select>
      </label>
      <Show loaded={index} label="Loading the market index…">
        {(i) => (
          <dl class="stats">
            <div>
              <dt>Index</dt>
              <dd>
                {num(i.index_value)} <span class={`small ${trend(i.index_change_pct_1d)}`}>{pct(i.index_change_pct_1d)}</span>
              </dd>
            </div>
            <div>
              <dt>7d / 30d</dt>
              <dd>
                <span class={trend(i.index_change_pct_7d)}>{pct(i.index_change_pct_7d)}</span> /{" "}
                <span class={trend(i.index_change_pct_30d)}>{pct(i.index_change_pct_30d)}</span>
              </dd>
            </div>
            <div>
              <dt>Basket (one of each)</dt>
              <dd>{money(i.basket_value_usd)}</dd>
            </div>
            <div>
              <dt>Breadth</dt>
              <dd>
                <span class="up">{i.advancers} up</span> · <span class="down">{i.decliners} down</span> · {i.unchanged} flat
              </dd>
            </div>
            <div>
              <dt>Sentiment</dt>
              <dd class={`sentiment ${(i.sentiment ?? "").toLowerCase()}`}>{(i.sentiment ?? "—").toLowerCase()}</dd>
            </div>
            <div>
              <dt>Fear &amp; greed</dt>
              <dd>
                {num(i.fear_greed)} · {i.fear_greed_label}
                <meter min={0} max={100} low={40} high={60} optimum={50} value={i.fear_greed ?? 0} aria-label="Fear and greed score" />
              </dd>
            </div>
            <div>
              <dt>Volume today</dt>
              <dd>{money(i.volume_usd)}</dd>
            </div>
            <div>
              <dt>Units sold today</dt>
              <dd>{num(i.units_sold)}</dd>
            </div>
          </dl>
        )}
      </Show>
      <h2>Index over time</h2>
      <Show loaded={history} label="Loading the index history…">
        {(rows) =>
          rows.length ? <Chart title="Market index" days={days} series={series} testId="index-chart" /> : <Empty>No index yet.</Empty>
        }
      </Show>
      <h2>Top movers</h2>
      <div class="range" role="group" aria-label="Movers period">
        {PERIODS.map((p) => (
          <button type="button" aria-pressed={p === period} onClick={() => navigate(withQuery({ period: p }), { replace: true, keepScroll: true })}>
            {p}
          </button>
        ))}
      </div>
      <Show loaded={movers} label="Loading movers…">
        {(m) => (
          <div class="columns">
            <MoverList title="Gainers" rows={m.gainers} />
            <MoverList title="Losers" rows={m.losers} />
          </div>
        )}
      </Show>
    </section>
  );
}

function MoverList({ title, rows }: { title: string; rows: Mover[] }) {
  return (
    <div>
      <h3>{title}</h3>
      {rows.length === 0 ? (
        <Empty>No box moved enough to count.</Empty>
      ) : (
        <ol class="movers">
          {rows.map((r) => (
            <li>
              <Link href={`/box/${r.product.slug}`}>{r.product.name}</Link>
              <span class="num">
                {money(r.price_before)} → {money(r.price_now)} <strong class={trend(r.change_pct)}>{pct(r.change_pct)}</strong>
              </span>
            </li>
          ))}
        </ol>
      )}
    </div>
  );
}
