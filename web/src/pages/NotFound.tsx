import { Link } from "../router";
import { useTitle } from "../hooks";

export function NotFound() {
  useTitle("Not found");
  return (
    <section class="page">
      <h1>Page not found</h1>
      <p>
        There is nothing here. Back to the <Link href="/">leaderboard</Link>.
      </p>
    </section>
  );
}
