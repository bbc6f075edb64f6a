import { useState } from "preact/hooks";
import { ApiError } from "../api/client";
import { createAlert, deleteAlert, getAlerts, updateAlert, type Alert, type AlertIn } from "../api/endpoints";
import { ProductPicker } from "../components/ProductPicker";
import { Empty, ErrorBox, Show } from "../components/States";
import { dateTime, money } from "../format";
import { useApi, useTitle } from "../hooks";
import { Link, useLocation } from "../router";

type Kind = AlertIn["kind"];
const KINDS: { kind: Kind; text: string }[] = [
  { kind: "floor_below", text: "Floor drops below a price" },
  { kind: "floor_above", text: "Floor rises above a price" },
  { kind: "floor_change", text: "Floor moves by more than ±X %" },
  { kind: "volume_spike", text: "Volume spike (2× the 7-day average)" },
  { kind: "listing_below", text: "A new listing below a price" },
];
const needsPrice = (kind: string) => kind === "floor_below" || kind === "floor_above" || kind === "listing_below";

export function describe(alert: Pick<Alert, "kind" | "price" | "change_pct" | "window">): string {
  switch (alert.kind) {
    case "floor_below":
      return `Floor below ${money(alert.price)}`;
    case "floor_above":
      return `Floor above ${money(alert.price)}`;
    case "listing_below":
      return `New listing below ${money(alert.price)}`;
    case "floor_change":
      return `Floor moves ±${alert.change_pct} % over ${alert.window}`;
    default:
      return "Volume spike";
  }
}

export function Alerts() {
  useTitle("Alerts");
  const alerts = useApi(getAlerts, []);
  return (
    <section class="page">
      <h1>Your alerts</h1>
      <Show loaded={alerts} label="Loading your alerts…">
        {(rows) =>
          rows.length === 0 ? (
            <Empty>No alerts yet. Create one below; firings land in your <Link href="/notifications">inbox</Link>.</Empty>
          ) : (
            <ul class="alerts" data-testid="alerts">
              {rows.map((a) => (
                <AlertRow key={a.id} alert={a} onChange={alerts.reload} />
              ))}
            </ul>
          )
        }
      </Show>
      <AlertForm onSaved={alerts.reload} />
    </section>
  );
}

function AlertRow({ alert, onChange }: { alert: Alert; onChange: () => void }) {
  const [editing, setEditing] = useState(false);
  const [price, setPrice] = useState(String(alert.price ?? ""));
  const [change, setChange] = useState(String(alert.change_pct ?? ""));
  const [error, setError] = useState<ApiError | null>(null);
  const act = (work: Promise<unknown>) => work.then(onChange, setError);
  const save = (event: Event) => {
    event.preventDefault();
    const patch = needsPrice(alert.kind)
      ? { price: Number(price) }
      : alert.kind === "floor_change"
        ? { change_pct: Number(change) }
        : {};
    act(updateAlert(alert.id, patch).then(() => setEditing(false)));
  };
  return (
    <li class={alert.active ? "" : "paused"}>
      <p>
        <Link href={`/box/${alert.product.slug}`}>{alert.product.name}</Link>: {describe(alert)}
        {!alert.active && <span class="chip">paused</span>}
      </p>
      <p class="muted small">
        every {alert.cooldown_hours} h at most{alert.last_fired_at ? ` · last fired ${dateTime(alert.last_fired_at)} UTC` : ""}
      </p>
      {editing ? (
        <form class="inline-form" onSubmit={save}>
          {needsPrice(alert.kind) && (
            <label>
              Price (USD)
              <input type="number" min="0.01" step="0.01" required value={price} onInput={(e) => setPrice(e.currentTarget.value)} />
            </label>
          )}
          {alert.kind === "floor_change" && (
            <label>
              Change (%)
              <input type="number" min="0.1" step="0.1" required value={change} onInput={(e) => setChange(e.currentTarget.value)} />
            </label>
          )}
          <button type="submit">Save</button>
          <button type="button" class="secondary" onClick={() => setEditing(false)}>
            Cancel
          </button>
        </form>
      ) : (
        <p class="row-actions">
          {alert.kind !== "volume_spike" && (
            <button type="button" class="secondary" onClick={() => setEditing(true)}>
              Edit
            </button>
          )}
          <button type="button" class="secondary" onClick={() => act(updateAlert(alert.id, { active: !alert.active }))}>
            {alert.active ? "Pause" : "Resume"}
          </button>
          <button type="button" class="danger" onClick={() => act(deleteAlert(alert.id))}>
            Delete
          </button>
        </p>
      )}
      {error && <ErrorBox error={error} />}
    </li>
  );
}

function AlertForm({ onSaved }: { onSaved: () => void }) {
  const { query } = useLocation();
  const [product, setProduct] = useState(query.get("product") ?? "");
  const [kind, setKind] = useState<Kind>("floor_below");
  const [price, setPrice] = useState("");
  const [change, setChange] = useState("10");
  const [window, setWindow] = useState<"1d" | "7d">("1d");
  const [error, setError] = useState<ApiError | null>(null);
  const [saved, setSaved] = useState(false);
  const submit = (event: Event) => {
    event.preventDefault();
    setError(null);
    setSaved(false);
    const body: AlertIn = { product, kind };
    if (needsPrice(kind)) body.price = Number(price);
    if (kind === "floor_change") Object.assign(body, { change_pct: Number(change), window });
    createAlert(body).then(() => {
      setSaved(true);
      onSaved();
    }, setError);
  };
  return (
    <form class="card" onSubmit={submit} aria-labelledby="new-alert-title">
      <h2 id="new-alert-title">New alert</h2>
      <label for="alert-product">Box</label>
      <ProductPicker id="alert-product" value={product} onChange={setProduct} />
      <label>
        When
        <select name="kind" value={kind} onChange={(e) => setKind(e.currentTarget.value as Kind)}>
          {KINDS.map((k) => (
            <option value={k.kind}>{k.text}</option>
          ))}
        </select>
      </label>
      {needsPrice(kind) && (
        <label>
          Price (USD)
          <input name="price" type="number" min="0.01" step="0.01" required value={price} onInput={(e) => setPrice(e.currentTarget.value)} />
        </label>
      )}
      {kind === "floor_change" && (
        <>
          <label>
            Change (%)
            <input name="change_pct" type="number" min="0.1" step="0.1" required value={change} onInput={(e) => setChange(e.currentTarget.value)} />
          </label>
          <label>
            Over
            <select name="window" value={window} onChange={(e) => setWindow(e.currentTarget.value as "1d" | "7d")}>
              <option value="1d">1 day</option>
              <option value="7d">7 days</option>
            </select>
          </label>
        </>
      )}
      <button type="submit">Create alert</button>
      {saved && <p role="status">Alert created.</p>}
      {error && <ErrorBox error={error} />}
    </form>
  );
}
