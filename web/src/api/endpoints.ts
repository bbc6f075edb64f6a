import { api } from "./client";
import type { components, paths } from "./schema";

/** Thin accessors over /api/v1, typed from the generated OpenAPI schema (npm run types / make
 * web-types). Lists come in the `{data, meta}` envelope; it is unwrapped here, in one place each, so
 * the pages never care. */
export type Schemas = components["schemas"];
export type LeaderboardRow = Schemas["LeaderboardRow"];
export type ProductSummary = Schemas["ProductSummary"];
export type Metrics = Schemas["MetricsSummary"];
export type ProductDetail = Schemas["ProductDetail"];
export type Holding = Schemas["Holding"];
export type Alert = Schemas["Alert"];
/** What a new alert needs; the server fills cooldown_hours (24) and active (true) when left out. */
export type AlertIn = Omit<Schemas["AlertIn"], "cooldown_hours" | "active"> &
  Partial<Pick<Schemas["AlertIn"], "cooldown_hours" | "active">>;
export type Notification = Schemas["Notification"];
export type MarketIndex = Schemas["MarketIndex"];
export type Mover = Schemas["Mover"];
export type Totals = Schemas["Totals"];
export interface MoversView {
  gainers: Mover[];
  losers: Mover[];
}
export interface PortfolioView {
  holdings: Holding[];
  totals: Totals;
  by_game: Record<string, Totals>;
}
export type SortKey = NonNullable<LeaderboardQuery["sort"]>;
export type LeaderboardQuery = NonNullable<paths["/api/v1/leaderboard"]["get"]["parameters"]["query"]>;
export type HistoryPoint = { period: string } & Record<string, number | null | string>;

export const getGames = () => api<Schemas["GameList"]>("/games").then((b) => b.data);
export const getLeaderboard = (query: LeaderboardQuery) =>
  api<Schemas["LeaderboardPage"]>("/leaderboard", { query });
export const searchProducts = (query: { q?: string; game?: string; limit?: number; offset?: number }) =>
  api<Schemas["ProductList"]>("/products", { query });
export const getProduct = (ref: string) => api<ProductDetail>(`/products/${encodeURIComponent(ref)}`);
export const getHistory = (ref: string, metrics: string[], from: string, to: string) =>
  api<{ data: HistoryPoint[] }>(`/products/${encodeURIComponent(ref)}/history`, {
    query: { metrics: metrics.join(","), from, to, interval: "1d" },
  }).then((b) => b.data);
export const getRankHistory = (ref: string, from: string, to: string) =>
  api<{ data: { day: string; rank: number | null }[] }>(`/products/${encodeURIComponent(ref)}/rank-history`, {
    query: { from, to },
  }).then((b) => b.data);
export const getSales = (ref: string, limit = 10) =>
  api<Schemas["SalesPage"]>(`/products/${encodeURIComponent(ref)}/sales`, { query: { limit } }).then((b) => b.data);
export const getListings = (ref: string, limit = 10) =>
  api<Schemas["ListingsPage"]>(`/products/${encodeURIComponent(ref)}/listings`, { query: { limit } }).then(
    (b) => b.data,
  );
export const sparklineUrl = (id: number) => `/api/v1/products/${id}/sparkline.svg?days=30&width=120&height=32`;
export const priceCheck = (product: string, price: number) =>
  api<Schemas["PriceCheck"]>("/price-check", { query: { product, price } });

export const getMarketIndex = (scope: string) => api<MarketIndex>("/market/index", { query: { scope } });
export const getIndexHistory = (scope: string, from?: string) =>
  api<Schemas["IndexHistory"]>("/market/index/history", { query: { scope, from } }).then((b) => b.data);
export const getMovers = (metric: string, period: string) =>
  api<Schemas["Movers"]>("/movers", { query: { metric, period, limit: 5 } }).then(toMovers);

/** The envelope `{data: [{direction, ...}], meta}` as the two lists the page shows. */
export function toMovers(body: { data: (Mover & { direction?: string })[] }): MoversView {
  const rows = body.data;
  return { gainers: rows.filter((r) => r.direction === "gainer"), losers: rows.filter((r) => r.direction === "loser") };
}

export const getWatchlist = () => api<Schemas["WatchlistPage"]>("/me/watchlist", { query: { limit: 200 } });
export const watch = (product: string) => api<unknown>("/me/watchlist", { method: "POST", body: { product } });
export const unwatch = (product: string) =>
  api<void>(`/me/watchlist/${encodeURIComponent(product)}`, { method: "DELETE" });

export const getPortfolio = () => api<Schemas["Portfolio"]>("/me/portfolio").then(toPortfolio);

/** The envelope `{data: holdings, meta: {totals, by_game}}` as the page's one object. */
export function toPortfolio(body: Schemas["Portfolio"]): PortfolioView {
  return { holdings: body.data, totals: body.meta.totals, by_game: body.meta.by_game };
}
export const getPortfolioHistory = (from?: string) =>
  api<Schemas["PortfolioHistory"]>("/me/portfolio/history", { query: { from } }).then((b) => b.data);
export const addHolding = (holding: Schemas["HoldingIn"]) =>
  api<Holding>("/me/portfolio", { method: "POST", body: holding });
export const removeHolding = (id: number) => api<void>(`/me/portfolio/${id}`, { method: "DELETE" });

export const getAlerts = () => api<Schemas["AlertPage"]>("/me/alerts", { query: { limit: 100 } }).then((b) => b.data);
export const createAlert = (alert: AlertIn) => api<Alert>("/me/alerts", { method: "POST", body: alert });
export const updateAlert = (id: number, patch: Schemas["AlertPatch"]) =>
  api<Alert>(`/me/alerts/${id}`, { method: "PATCH", body: patch });
export const deleteAlert = (id: number) => api<void>(`/me/alerts/${id}`, { method: "DELETE" });

export const getNotifications = (unread = false, limit = 100) =>
  api<Schemas["NotificationPage"]>("/me/notifications", { query: { limit, unread: unread || undefined } });
export const markRead = (id: number) => api<Notification>(`/me/notifications/${id}/read`, { method: "POST" });
export const markAllRead = () => api<unknown>("/me/notifications/read", { method: "POST" });

export const getReadiness = () =>
  fetch("/health/ready", { headers: { Accept: "application/json" } }).then(
    (r) => r.json() as Promise<Schemas["Readiness"]>,
  );
