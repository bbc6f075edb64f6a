import { useMemo, useState } from "preact/hooks";
import { ApiError } from "../api/client";
import { addHolding, getPortfolio, getPortfolioHistory, removeHolding } from "../api/endpoints";
import { Chart } from "../components/Chart";
import { ProductPicker } from "../components/ProductPicker";
import { Empty, ErrorBox, Show } from "../components/States";
import { money, pct, trend } from "../format";
import { useApi, useTitle } from "../hooks";
import { Link, useLocation } from "../router";

export function Portfolio() {
  useTitle("Portfolio");
  const portfolio = useApi(getPortfolio, []);
  const history = useApi(() => getPortfolioHistory(), []);
  const reload = () => {
    portfolio.reload();
    history.reload();
  };
  const days = useMemo(() => history.data?.map((p) => p.day) ?? [], [history.data]);
  const series = useMemo(
    () => [
      { label: "Value", values: history.data?.map((p) => p.value ?? null) ?? [], color: "#1d4ed8" },
      { label: "Cost basis", values: history.data?.map((p) => p.cost_basis ?? null) ?? [], color: "#6b7280", dash: true },
    ],
    [history.data],
  );
  return (
    <section class="page">
      <h1>Your portfolio</h1>
      <Show loaded={portfolio} label="Loading your portfolio…">
        {(p) => (
          <>
            <dl class="stats">
              <div>
                <dt>Value</dt>
                <dd data-testid="portfolio-value">{money(p.totals.value)}</dd>
              </div>
              <div>
                <dt>Cost basis</dt>
                <dd>{money(p.totals.cost_basis)}</dd>
              </div>
              <div>
                <dt>Unrealised P&amp;L</dt>
                <dd class={trend(p.totals.pnl_usd)}>
                  {money(p.totals.pnl_usd)} ({pct(p.totals.pnl_pct)})
                </dd>
              </div>
            </dl>
            {p.holdings.length === 0 ? (
              <Empty>No holdings yet: add the boxes you own below.</Empty>
            ) : (
              <>
                <div class="table-wrap" tabIndex={0}>
                  <table data-testid="holdings">
                    <thead>
                      <tr>
                        <th scope="col">Box</th>
                        <th scope="col" class="num">Qty</th>
                        <th scope="col" class="num">Unit cost</th>
                        <th scope="col" class="num">Value</th>
                        <th scope="col" class="num">P&amp;L</th>
                        <th scope="col"><span class="visually-hidden">Remove</span></th>
                      </tr>
                    </thead>
                    <tbody>
                      {p.holdings.map((h) => (
                        <tr>
                          <td>
                            <Link href={`/box/${h.slug}`}>{h.name}</Link>
                          </td>
                          <td class="num">{h.quantity}</td>
                          <td class="num">{money(h.unit_cost)}</td>
                          <td class="num">{money(h.value)}</td>
                          <td class={`num ${trend(h.pnl_usd)}`}>
                            {money(h.pnl_usd)} ({pct(h.pnl_pct)})
                          </td>
                          <td>
                            <button type="button" class="secondary" onClick={() => removeHolding(h.id).then(reload)}>
                              Remove<span class="visually-hidden"> {h.name}</span>
                            </button>
                          </td>
                        </tr>
                      ))}
                    </tbody>
                  </table>
                </div>
                <h2>P&amp;L by game</h2>
                <div class="table-wrap" tabIndex={0}>
                <table>
                  <thead>
                    <tr>
                      <th scope="col">Game</th>
                      <th scope="col" class="num">Value</th>
                      <th scope="col" class="num">Cost</th>
                      <th scope="col" class="num">P&amp;L</th>
                    </tr>
                  </thead>
                  <tbody>
                    {Object.entries(p.by_game).map(([game, t]) => (
                      <tr>
                        <th scope="row">{game}</th>
                        <td class="num">{money(t.value)}</td>
                        <td class="num">{money(t.cost_basis)}</td>
                        <td class={`num ${trend(t.pnl_usd)}`}>
                          {money(t.pnl_usd)} ({pct(t.pnl_pct)})
                        </td>
                      </tr>
                    ))}
                  </tbody>
                </table>
                </div>
                <h2>Value over time</h2>
                <Show loaded={history}>
                  {(rows) =>
                    rows.length ? (
                      <Chart title="Portfolio value" days={days} series={series} money testId="portfolio-chart" />
                    ) : (
                      <Empty>No history yet.</Empty>
                    )
                  }
                </Show>
              </>
            )}
          </>
        )}
      </Show>
      <AddHolding onAdded={reload} />
    </section>
  );
}

function AddHolding({ onAdded }: { onAdded: () => void }) {
  const { query } = useLocation();
  const [product, setProduct] = useState(query.get("product") ?? "");
  const [quantity, setQuantity] = useState("1");
  const [unitCost, setUnitCost] = useState("");
  const [acquired, setAcquired] = useState("");
  const [error, setError] = useState<ApiError | null>(null);
  const submit = (event: Event) => {
    event.preventDefault();
    setError(null);
    addHolding({
      product,
      quantity: Number(quantity),
      unit_cost: Number(unitCost),
      ...(acquired ? { acquired_on: acquired } : {}),
    }).then(() => {
      setUnitCost("");
      onAdded();
    }, setError);
  };
  return (
    <form class="card" onSubmit={submit} aria-labelledby="add-holding-title">
      <h2 id="add-holding-title">Add a holding</h2>
      <label for="holding-product">Box</label>
      <ProductPicker id="holding-product" value={product} onChange={setProduct} />
      <label>
        Quantity
        <input name="quantity" type="number" min="1" max="100000" required value={quantity} onInput={(e) => setQuantity(e.currentTarget.value)} />
      </label>
      <label>
        Unit cost (USD)
        <input name="unit_cost" type="number" min="0" step="0.01" required value={unitCost} onInput={(e) => setUnitCost(e.currentTarget.value)} />
      </label>
      <label>
        Bought on (optional)
        <input name="acquired_on" type="date" value={acquired} onInput={(e) => setAcquired(e.currentTarget.value)} />
      </label>
      <button type="submit">Add holding</button>
      {error && <ErrorBox error={error} />}
    </form>
  );
}
