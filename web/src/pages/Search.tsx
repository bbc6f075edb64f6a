import { useState } from "preact/hooks";
import { searchProducts } from "../api/endpoints";
import { BoxImage } from "../components/BoxImage";
import { Empty, Show } from "../components/States";
import { money } from "../format";
import { useApi, useTitle } from "../hooks";
import { Link, navigate, useLocation, withQuery } from "../router";
import { Pager } from "./Leaderboard";

export function Search() {
  useTitle("Search");
  const { query } = useLocation();
  const q = query.get("q") ?? "";
  const offset = Number(query.get("offset") || 0);
  const [text, setText] = useState(q);
  const results = useApi(
    () => (q ? searchProducts({ q, limit: 25, offset }) : Promise.resolve(null)),
    [q, offset],
  );
  return (
    <section class="page">
      <h1>Search the catalog</h1>
      <form
        role="search"
        class="search"
        onSubmit={(e) => {
          e.preventDefault();
          navigate(withQuery({ q: text.trim(), offset: null }));
        }}
      >
        <label for="search-q">Name, set or code</label>
        <input id="search-q" type="search" value={text} maxLength={100} onInput={(e) => setText(e.currentTarget.value)} placeholder="e.g. OP-05 or Obsidian Flames" />
        <button type="submit">Search</button>
      </form>
      <Show loaded={results} label="Searching…">
        {(page) =>
          page === null ? (
            <Empty>Type a name, a set or a code.</Empty>
          ) : page.data.length === 0 ? (
            <Empty>Nothing matches “{q}”.</Empty>
          ) : (
            <>
              <ul class="results">
                {page.data.map((p) => (
                  <li>
                    <BoxImage src={p.image_url} name={p.name} code={p.set_code} size={40} />
                    <Link href={`/box/${p.slug}`}>{p.name}</Link>
                    <span class="muted small">{p.game}</span>
                    <span class="num">{money((p as { floor_price?: number | null }).floor_price)}</span>
                  </li>
                ))}
              </ul>
              <Pager offset={page.meta.offset} total={page.meta.total} />
            </>
          )
        }
      </Show>
    </section>
  );
}
