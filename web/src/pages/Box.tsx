import { useMemo, useState } from "preact/hooks";
import { ApiError, session } from "../api/client";
import {
  getHistory,
  getListings,
  getProduct,
  getRankHistory,
  getSales,
  priceCheck,
  watch,
  type Schemas,
} from "../api/endpoints";
import { BoxImage } from "../components/BoxImage";
import { Chart } from "../components/Chart";
import { Empty, ErrorBox, Show, errorText } from "../components/States";
import { dateTime, daysBefore, label, money, num, pct, trend } from "../format";
import { useApi, useTitle } from "../hooks";
import { Link, navigate, useLocation, withQuery } from "../router";
import { useStore } from "../store";

export const RANGES: { key: string; text: string; days: number }[] = [
  { key: "30d", text: "30 days", days: 30 },
  { key: "90d", text: "90 days", days: 90 },
  { key: "1y", text: "1 year", days: 365 },
  { key: "all", text: "All", days: 3 * 366 }, // the API's longest daily window
];
const PRICE_METRICS = ["floor_price", "market_price", "floor_sma_7d", "volume_usd", "volume_ema_7d"];

export function Box({ boxRef }: { boxRef: string }) {
  const detail = useApi(() => getProduct(boxRef), [boxRef]);
  useTitle(detail.data?.product.name ?? "Box");
  return (
    <section class="page box-page">
      <Show loaded={detail} label="Loading the box…">
        {(d) => <BoxDetail detail={d} />}
      </Show>
    </section>
  );
}

function BoxDetail({ detail }: { detail: Schemas["ProductDetail"] }) {
  const { product, metrics } = detail;
  const m = metrics as Schemas["MetricsSummary"] | null;
  const ranks = detail.ranks as { scope: string; rank: number | null }[];
  return (
    <>
      <div class="box-header">
        <BoxImage src={product.image_url} name={product.name} code={product.set_code} size={96} />
        <div>
          <h1>{product.name}</h1>
          <p class="muted">
            {product.game} · {product.set_name ?? product.set_code} · {label(product.product_type)}
            {product.release_date && ` · released ${product.release_date}`} · reprint risk {product.reprint_risk.toLowerCase()}
          </p>
          <p class="ranks">
            {ranks.map((r) => (
              <span class="chip">
                #{r.rank ?? "—"} {r.scope === "all" ? "overall" : `in ${r.scope}`}
              </span>
            ))}
          </p>
          <BoxActions slug={product.slug} />
        </div>
      </div>
      <dl class="stats">
        <Stat term="Floor" value={money(m?.floor_price)} change={m?.floor_change_pct_1d} />
        <Stat term="Market price" value={money(m?.market_price)} />
        <Stat term="Floor 7d" value={pct(m?.floor_change_pct_7d)} />
        <Stat term="Volume 7d" value={money(m?.volume_7d)} />
        <Stat term="Units sold 7d" value={num(m?.units_sold_7d)} />
        <Stat term="Liquidity" value={m?.liquidity_label ? `${m.liquidity_label} (${num(m.liquidity_score)})` : "—"} />
        <Stat term="Active listings" value={num(m?.active_listings)} />
        <Stat term="Days to sell" value={num(m?.expected_days_to_sell)} />
      </dl>
      {m?.day ? <Charts slug={product.slug} lastDay={m.day} /> : <Empty>No market data for this box yet.</Empty>}
      <div class="columns">
        <Marketplaces rows={detail.marketplaces as Schemas["MarketplaceBreakdown"][]} />
        <PriceCheck slug={product.slug} />
      </div>
      <div class="columns">
        <Listings slug={product.slug} />
        <Sales slug={product.slug} />
      </div>
    </>
  );
}

function Stat({ term, value, change }: { term: string; value: string; change?: number | null }) {
  return (
    <div>
      <dt>{term}</dt>
      <dd>
        {value}
        {change != null && <span class={`small ${trend(change)}`}> {pct(change)}</span>}
      </dd>
    </div>
  );
}

function BoxActions({ slug }: { slug: string }) {
  const signedIn = useStore(session) !== null;
  const [state, setState] = useState<"idle" | "saving" | "saved" | string>("idle");
  if (!signedIn) {
    return (
      <p class="actions">
        <Link href={`/signin?next=${encodeURIComponent(`/box/${slug}`)}`}>Sign in</Link> to watch this box, set alerts
        or track it in your portfolio.
      </p>
    );
  }
  const add = () => {
    setState("saving");
    watch(slug).then(
      () => setState("saved"),
      (e: ApiError) => setState(e.status === 409 ? "saved" : errorText(e)),
    );
  };
  return (
    <p class="actions">
      <button type="button" onClick={add} disabled={state === "saving" || state === "saved"} data-testid="watch">
        {state === "saved" ? "On your watchlist ✓" : "Add to watchlist"}
      </button>
      <Link class="button secondary" href={`/alerts?product=${slug}`}>
        Create alert
      </Link>
      <Link class="button secondary" href={`/portfolio?product=${slug}`}>
        Add to portfolio
      </Link>
      {state !== "idle" && state !== "saving" && state !== "saved" && <span role="alert">{state}</span>}
    </p>
  );
}

function Charts({ slug, lastDay }: { slug: string; lastDay: string }) {
  const { query } = useLocation();
  const range = RANGES.find((r) => r.key === query.get("range")) ?? RANGES[1];
  const from = daysBefore(lastDay, range.days);
  const history = useApi(() => getHistory(slug, PRICE_METRICS, from, lastDay), [slug, from, lastDay]);
  const ranks = useApi(() => getRankHistory(slug, from, lastDay), [slug, from, lastDay]);
  return (
    <div class="charts">
      <div class="range" role="group" aria-label="Chart range">
        {RANGES.map((r) => (
          <button
            type="button"
            aria-pressed={r.key === range.key}
            onClick={() => navigate(withQuery({ range: r.key === "90d" ? null : r.key }), { replace: true, keepScroll: true })}
          >
            {r.text}
          </button>
        ))}
      </div>
      <Show loaded={history} label="Loading price history…">
        {(points) => <PriceCharts points={points} />}
      </Show>
      <h2>Rank history</h2>
      <Show loaded={ranks} label="Loading rank history…">
        {(rows) =>
          rows.length === 0 ? (
            <Empty>Not ranked in this range.</Empty>
          ) : (
            <RankChart rows={rows as { day: string; rank: number | null }[]} />
          )
        }
      </Show>
    </div>
  );
}

function PriceCharts({ points }: { points: { period: string; [k: string]: unknown }[] }) {
  const days = useMemo(() => points.map((p) => String(p.period).slice(0, 10)), [points]);
  const col = (name: string) => points.map((p) => (p[name] as number | null) ?? null);
  const price = useMemo(
    () => [
      { label: "Floor", values: col("floor_price"), color: "#1d4ed8" },
      { label: "Market", values: col("market_price"), color: "#b45309" },
      { label: "Floor SMA 7d", values: col("floor_sma_7d"), color: "#6b7280", dash: true },
    ],
    [points],
  );
  const volume = useMemo(
    () => [
      { label: "Volume", values: col("volume_usd"), color: "#93c5fd", bars: true },
      { label: "Volume EMA 7d", values: col("volume_ema_7d"), color: "#1e3a8a" },
    ],
    [points],
  );
  if (points.length === 0) return <Empty>No history in this range.</Empty>;
  return (
    <>
      <h2>Price</h2>
      <Chart title="Floor and market price" days={days} series={price} money testId="price-chart" />
      <h2>Volume</h2>
      <Chart title="Daily sales volume" days={days} series={volume} money height={160} testId="volume-chart" />
    </>
  );
}

function RankChart({ rows }: { rows: { day: string; rank: number | null }[] }) {
  const days = useMemo(() => rows.map((r) => r.day), [rows]);
  const series = useMemo(() => [{ label: "Rank", values: rows.map((r) => r.rank), color: "#047857" }], [rows]);
  return <Chart title="Overall rank" days={days} series={series} invert height={140} testId="rank-chart" />;
}

function Marketplaces({ rows }: { rows: Schemas["MarketplaceBreakdown"][] }) {
  return (
    <div>
      <h2>By marketplace</h2>
      {rows.length === 0 ? (
        <Empty>No marketplace has listed this box recently.</Empty>
      ) : (
        <div class="table-wrap" tabIndex={0}>
          <table>
            <thead>
              <tr>
                <th scope="col">Marketplace</th>
                <th scope="col" class="num">Floor</th>
                <th scope="col" class="num">Listings</th>
                <th scope="col" class="num">Sold today</th>
                <th scope="col" class="num">Volume today</th>
              </tr>
            </thead>
            <tbody>
              {rows.map((r) => (
                <tr>
                  <th scope="row">{r.marketplace_name}</th>
                  <td class="num">{money(r.floor_price)}</td>
                  <td class="num">{num(r.active_listings)}</td>
                  <td class="num">{num(r.units_sold)}</td>
                  <td class="num">{money(r.volume_usd)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </div>
  );
}

function Listings({ slug }: { slug: string }) {
  const listings = useApi(() => getListings(slug, 10), [slug]);
  return (
    <div>
      <h2>Cheapest listings</h2>
      <Show loaded={listings}>
        {(rows) =>
          rows.length === 0 ? (
            <Empty>No current listings.</Empty>
          ) : (
            <div class="table-wrap" tabIndex={0}>
              <table>
                <thead>
                  <tr>
                    <th scope="col">Marketplace</th>
                    <th scope="col" class="num">Price + shipping</th>
                    <th scope="col" class="num">Qty</th>
                  </tr>
                </thead>
                <tbody>
                  {rows.map((r) => (
                    <tr>
                      <td>{r.marketplace}</td>
                      <td class="num">{money(r.landed_price)}</td>
                      <td class="num">{r.quantity}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )
        }
      </Show>
    </div>
  );
}

function Sales({ slug }: { slug: string }) {
  const sales = useApi(() => getSales(slug, 10), [slug]);
  return (
    <div>
      <h2>Recent sales</h2>
      <Show loaded={sales}>
        {(rows) =>
          rows.length === 0 ? (
            <Empty>No sales recorded yet.</Empty>
          ) : (
            <div class="table-wrap" tabIndex={0}>
              <table>
                <thead>
                  <tr>
                    <th scope="col">When (UTC)</th>
                    <th scope="col">Marketplace</th>
                    <th scope="col" class="num">Price</th>
                    <th scope="col">Basis</th>
                  </tr>
                </thead>
                <tbody>
                  {rows.map((r) => (
                    <tr>
                      <td>{dateTime(r.sold_at)}</td>
                      <td>{r.marketplace}</td>
                      <td class="num">{money(r.unit_price)}</td>
                      <td>{r.basis}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )
        }
      </Show>
    </div>
  );
}

function PriceCheck({ slug }: { slug: string }) {
  const [price, setPrice] = useState("");
  const [result, setResult] = useState<Schemas["PriceCheck"] | ApiError | null>(null);
  const submit = (event: Event) => {
    event.preventDefault();
    priceCheck(slug, Number(price)).then(setResult, setResult);
  };
  return (
    <form class="card" onSubmit={submit} aria-labelledby="price-check-title">
      <h2 id="price-check-title">Is this a good price?</h2>
      <label>
        Asking price (USD)
        <input type="number" min="0.01" step="0.01" required value={price} onInput={(e) => setPrice(e.currentTarget.value)} />
      </label>
      <button type="submit">Check</button>
      {result instanceof ApiError && <ErrorBox error={result} />}
      {result && !(result instanceof ApiError) && (
        <p class={`verdict ${result.verdict}`} role="status" data-testid="verdict">
          {money(result.price)} is <strong>{result.verdict}</strong>: the floor is {money(result.floor_price)}, the market
          price {money(result.market_price)}.
        </p>
      )}
    </form>
  );
}
