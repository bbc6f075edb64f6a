import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { ApiError, api, dataMode, session, sessionExpired } from "./client";

/** The browser's fetch, played by a list of answers: what the service would send. */
function serve(...answers: Response[]) {
  const calls: { url: string; init: RequestInit }[] = [];
  vi.stubGlobal(
    "fetch",
    vi.fn(async (url: string, init: RequestInit) => {
      calls.push({ url, init });
      return answers.shift()!;
    }),
  );
  return calls;
}
const json = (status: number, body: unknown, headers: Record<string, string> = {}) =>
  new Response(JSON.stringify(body), { status, headers: { "Content-Type": "application/json", ...headers } });

describe("api client", () => {
  beforeEach(() => {
    session.set(null);
    sessionExpired.set(false);
    document.cookie = "csrf_refresh_token=; expires=Thu, 01 Jan 1970 00:00:00 GMT; path=/";
  });
  afterEach(() => vi.unstubAllGlobals());

  it("remembers the data mode the service announces", async () => {
    serve(json(200, { data: [] }, { "X-Data-Mode": "demo" }));
    await api("/games");
    expect(dataMode.get()).toBe("demo");
  });

  it("refreshes an expired access token once, silently, with the CSRF cookie, and retries", async () => {
    session.set({ accessToken: "old" });
    document.cookie = "csrf_refresh_token=csrf-value; path=/";
    const calls = serve(json(401, { code: "unauthorized" }), json(200, { access_token: "new" }), json(200, { data: [] }));
    await api("/me/watchlist");
    expect(calls[1].url).toBe("/api/v1/auth/refresh");
    expect((calls[1].init.headers as Record<string, string>)["X-CSRF-TOKEN"]).toBe("csrf-value");
    expect((calls[2].init.headers as Record<string, string>).Authorization).toBe("Bearer new");
    expect(session.get()?.accessToken).toBe("new");
  });

  it("ends the session when there is nothing to refresh with", async () => {
    session.set({ accessToken: "old" });
    serve(json(401, { code: "unauthorized", message: "expired" }));
    await expect(api("/me/alerts")).rejects.toBeInstanceOf(ApiError);
    expect(session.get()).toBeNull();
    expect(sessionExpired.get()).toBe(true);
  });

  it("reads Retry-After from a 429 and says the service is unreachable when it is", async () => {
    serve(json(429, { code: "rate_limited" }, { "Retry-After": "7" }));
    await expect(api("/leaderboard")).rejects.toMatchObject({ status: 429, retryAfter: 7 });
    vi.stubGlobal("fetch", vi.fn(async () => Promise.reject(new TypeError("Failed to fetch"))));
    await expect(api("/leaderboard")).rejects.toMatchObject({ status: 0, code: "unreachable" });
  });
});
