import { useEffect, useState } from "preact/hooks";
import { dataMode, restoring, session, sessionExpired } from "./api/client";
import { signOut } from "./api/auth";
import { getNotifications, getReadiness } from "./api/endpoints";
import { Link, match, navigate, useLocation } from "./router";
import { useStore } from "./store";
import { Leaderboard } from "./pages/Leaderboard";
import { lazyPage } from "./pages/lazy";
import { SignIn, SignUp, ForgotPassword, ResetPassword, VerifyEmail } from "./pages/Account";
import { Search } from "./pages/Search";
import { NotFound } from "./pages/NotFound";
import { Loading } from "./components/States";

// Pages with charts load uPlot and their own code only when opened.
const Box = lazyPage(() => import("./pages/Box").then((m) => m.Box));
const Market = lazyPage(() => import("./pages/Market").then((m) => m.Market));
const Watchlist = lazyPage(() => import("./pages/Watchlist").then((m) => m.Watchlist));
const Portfolio = lazyPage(() => import("./pages/Portfolio").then((m) => m.Portfolio));
const Alerts = lazyPage(() => import("./pages/Alerts").then((m) => m.Alerts));
const Notifications = lazyPage(() => import("./pages/Notifications").then((m) => m.Notifications));

const PRIVATE = ["/watchlist", "/portfolio", "/alerts", "/notifications"];

function Page({ path }: { path: string }) {
  let params: Record<string, string> | null;
  if (path === "/") return <Leaderboard />;
  if ((params = match("/box/:ref", path))) return <Box key={params.ref} boxRef={params.ref} />;
  if (path === "/market") return <Market />;
  if (path === "/search") return <Search />;
  if (path === "/watchlist") return <Watchlist />;
  if (path === "/portfolio") return <Portfolio />;
  if (path === "/alerts") return <Alerts />;
  if (path === "/notifications") return <Notifications />;
  if (path === "/signin") return <SignIn />;
  if (path === "/signup") return <SignUp />;
  if (path === "/forgot-password") return <ForgotPassword />;
  if (path === "/reset-password") return <ResetPassword />;
  if (path === "/verify-email") return <VerifyEmail />;
  return <NotFound />;
}

/** The service writes its data mode into the page (service/web.py); every API answer repeats it in
 * X-Data-Mode, and /health/ready says it when the page came from elsewhere (the Vite dev server). */
const pageMode = document.querySelector<HTMLMetaElement>('meta[name="data-mode"]')?.content || null;
if (pageMode) dataMode.set(pageMode);

function DemoBanner() {
  const mode = useStore(dataMode);
  useEffect(() => {
    if (!dataMode.get()) getReadiness().then((r) => r.data_mode && dataMode.set(r.data_mode), () => undefined);
  }, []);
  if (mode !== "demo") return null;
  return (
    <div class="demo-banner" role="note" data-testid="demo-banner">
      <strong>Demo data.</strong> These numbers come from a simulated market, not from real sales.
    </div>
  );
}

function Nav() {
  const current = useStore(session);
  const { path } = useLocation();
  const [open, setOpen] = useState(false);
  const [unread, setUnread] = useState(0);
  useEffect(() => setOpen(false), [path]);
  useEffect(() => {
    // The inbox's unread count, refreshed as the user moves around (alerts fire in the background).
    if (current) getNotifications(true, 1).then((page) => setUnread(page.meta.unread), () => undefined);
    else setUnread(0);
  }, [current !== null, path]);
  const item = (href: string, text: string, badge = 0) => (
    <li>
      <Link href={href} aria-current={path === href ? "page" : undefined}>
        {text}
        {badge > 0 && (
          <span class="badge">
            {badge}
            <span class="visually-hidden"> unread</span>
          </span>
        )}
      </Link>
    </li>
  );
  return (
    <header class="topbar">
      <Link href="/" class="brand">
        BoosterBox<span>Pro</span>
      </Link>
      <button
        type="button"
        class="menu-toggle"
        aria-expanded={open}
        aria-controls="main-nav"
        onClick={() => setOpen(!open)}
      >
        Menu
      </button>
      <nav id="main-nav" class={open ? "open" : ""} aria-label="Main">
        <ul>
          {item("/", "Leaderboard")}
          {item("/market", "Market")}
          {item("/search", "Search")}
          {current && item("/watchlist", "Watchlist")}
          {current && item("/portfolio", "Portfolio")}
          {current && item("/alerts", "Alerts")}
          {current && item("/notifications", "Inbox", unread)}
          {current ? (
            <li>
              <button
                type="button"
                class="link"
                onClick={() => signOut().finally(() => navigate("/"))}
                data-testid="sign-out"
              >
                Sign out
              </button>
            </li>
          ) : (
            <>
              {item("/signin", "Sign in")}
              {item("/signup", "Sign up")}
            </>
          )}
        </ul>
      </nav>
    </header>
  );
}

export function App() {
  const { path } = useLocation();
  const expired = useStore(sessionExpired);
  const current = useStore(session);
  const waking = useStore(restoring);
  useEffect(() => {
    if (expired && PRIVATE.includes(path)) {
      sessionExpired.set(false);
      navigate(`/signin?next=${encodeURIComponent(path)}&expired=1`, { replace: true });
    }
  }, [expired, path]);
  const needsSession = PRIVATE.includes(path) && !current;
  return (
    <>
      <a class="skip-link" href="#main">
        Skip to content
      </a>
      <Nav />
      <DemoBanner />
      <main id="main">
        {needsSession && waking ? (
          <Loading label="Signing you back in…" />
        ) : needsSession ? (
          <SignIn reason="Sign in to see this page." />
        ) : (
          <Page path={path} />
        )}
      </main>
      <footer class="footer">
        <p>
          BoosterBoxPro · market data for sealed trading-card products · <a href="/docs">API</a>
        </p>
      </footer>
    </>
  );
}
