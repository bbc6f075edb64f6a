import { getWatchlist, unwatch } from "../api/endpoints";
import { BoxImage } from "../components/BoxImage";
import { RankChange } from "../components/RankChange";
import { Empty, Show } from "../components/States";
import { money, pct, trend } from "../format";
import { useApi, useTitle } from "../hooks";
import { Link } from "../router";

export function Watchlist() {
  useTitle("Watchlist");
  const list = useApi(getWatchlist, []);
  return (
    <section class="page">
      <h1>Your watchlist</h1>
      <Show loaded={list} label="Loading your watchlist…">
        {(page) =>
          page.data.length === 0 ? (
            <Empty>
              Nothing watched yet. Open a box from the <Link href="/">leaderboard</Link> and press “Add to watchlist”.
            </Empty>
          ) : (
            <div class="table-wrap" tabIndex={0}>
              <table data-testid="watchlist">
                <thead>
                  <tr>
                    <th scope="col">Rank</th>
                    <th scope="col">Box</th>
                    <th scope="col" class="num">Floor</th>
                    <th scope="col" class="num">7d</th>
                    <th scope="col"><span class="visually-hidden">Remove</span></th>
                  </tr>
                </thead>
                <tbody>
                  {page.data.map((row) => (
                    <tr>
                      <td class="rank">
                        {row.rank ?? "—"} <RankChange change={row.change_1d} before={row.rank_1d_ago} period="yesterday" />
                      </td>
                      <td class="box-cell">
                        <BoxImage src={row.product.image_url} name={row.product.name} code={row.product.set_code} size={40} />
                        <Link href={`/box/${row.product.slug}`}>{row.product.name}</Link>
                      </td>
                      <td class="num">{money(row.metrics?.floor_price)}</td>
                      <td class={`num ${trend(row.metrics?.floor_change_pct_7d)}`}>{pct(row.metrics?.floor_change_pct_7d)}</td>
                      <td>
                        <button type="button" class="secondary" onClick={() => unwatch(row.product.slug).then(list.reload)}>
                          Remove<span class="visually-hidden"> {row.product.name}</span>
                        </button>
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )
        }
      </Show>
    </section>
  );
}
