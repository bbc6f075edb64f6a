import { getNotifications, markAllRead, markRead } from "../api/endpoints";
import { Empty, Show } from "../components/States";
import { dateTime } from "../format";
import { useApi, useTitle } from "../hooks";
import { Link } from "../router";

export function Notifications() {
  useTitle("Inbox");
  const inbox = useApi(() => getNotifications(), []);
  return (
    <section class="page">
      <h1>Inbox</h1>
      <Show loaded={inbox} label="Loading your notifications…">
        {(page) =>
          page.data.length === 0 ? (
            <Empty>
              No notifications yet. Alerts you <Link href="/alerts">set up</Link> land here when they fire.
            </Empty>
          ) : (
            <>
              <p>
                {page.meta.unread} unread{" "}
                {page.meta.unread > 0 && (
                  <button type="button" class="secondary" onClick={() => markAllRead().then(inbox.reload)}>
                    Mark all read
                  </button>
                )}
              </p>
              <ul class="inbox">
                {page.data.map((n) => (
                  <li class={n.read_at ? "read" : "unread"}>
                    <p>
                      <Link href={`/box/${n.product.slug}`}>{n.product.name}</Link>: {n.message}
                    </p>
                    <p class="muted small">
                      {dateTime(n.fired_at)} UTC
                      {!n.read_at && (
                        <button type="button" class="link" onClick={() => markRead(n.id).then(inbox.reload)}>
                          Mark read
                        </button>
                      )}
                    </p>
                  </li>
                ))}
              </ul>
            </>
          )
        }
      </Show>
    </section>
  );
}
