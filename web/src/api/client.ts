import { createStore } from "../store";

/** The one way the app talks to /api/v1: JSON in and out, the access token from memory, a silent
 * refresh when it has expired, and errors as ApiError whatever went wrong. */

export const BASE = "/api/v1";

export class ApiError extends Error {
  constructor(
    readonly status: number, // 0: the service could not be reached
    message: string,
    readonly code: string = "error",
    readonly details: Record<string, unknown> | undefined = undefined,
    readonly retryAfter: number | null = null, // seconds, from a 429 or 503
  ) {
    super(message);
  }
}

export interface Session {
  accessToken: string;
  email?: string;
}

/** The signed-in session. The access token lives here only: never in localStorage. */
export const session = createStore<Session | null>(null);
/** `demo` when the service serves the simulated market (every response says so in X-Data-Mode). */
export const dataMode = createStore<string | null>(null);
/** True while a session is being restored from the refresh cookie after a page load. */
export const restoring = createStore(false);
/** Set when a signed-in call failed for good (the refresh failed too): the app sends the user to sign in. */
export const sessionExpired = createStore(false);

type Query = Record<string, string | number | boolean | null | undefined>;

export interface RequestOptions {
  method?: string;
  query?: Query;
  body?: unknown;
  headers?: Record<string, string>;
  signal?: AbortSignal;
}

export function url(path: string, query?: Query): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query ?? {})) {
    if (value !== null && value !== undefined && value !== "") params.set(key, String(value));
  }
  const text = params.toString();
  return `${BASE}${path}${text ? `?${text}` : ""}`;
}

export function cookie(name: string): string | null {
  const found = document.cookie.split("; ").find((part) => part.startsWith(`${name}=`));
  return found ? decodeURIComponent(found.slice(name.length + 1)) : null;
}

let refreshing: Promise<boolean> | null = null;

/** A new access token from the refresh cookie (httpOnly, sent only to the refresh route), with the
 * readable CSRF cookie echoed in a header. One refresh at a time, however many calls hit a 401. */
export function refreshSession(): Promise<boolean> {
  refreshing ??= (async () => {
    const csrf = cookie("csrf_refresh_token");
    if (!csrf) return false;
    try {
      const response = await fetch(`${BASE}/auth/refresh`, {
        method: "POST",
        credentials: "same-origin",
        headers: { Accept: "application/json", "X-CSRF-TOKEN": csrf },
      });
      if (!response.ok) return false;
      const body = (await response.json()) as { access_token: string };
      session.set({ ...session.get(), accessToken: body.access_token });
      return true;
    } catch {
      return false;
    }
  })().finally(() => {
    refreshing = null;
  });
  return refreshing;
}

async function send(path: string, options: RequestOptions): Promise<Response> {
  const headers: Record<string, string> = { Accept: "application/json", ...options.headers };
  const token = session.get()?.accessToken;
  if (token) headers.Authorization = `Bearer ${token}`;
  let body: string | undefined;
  if (options.body !== undefined) {
    headers["Content-Type"] = "application/json";
    body = JSON.stringify(options.body);
  }
  try {
    return await fetch(url(path, options.query), {
      method: options.method ?? "GET",
      headers,
      body,
      credentials: "same-origin",
      signal: options.signal,
    });
  } catch (error) {
    if ((error as Error).name === "AbortError") throw error;
    throw new ApiError(0, "The service cannot be reached. Check your connection and try again.", "unreachable");
  }
}

export async function toError(response: Response): Promise<ApiError> {
  let body: { message?: string; code?: string; details?: Record<string, unknown> } = {};
  try {
    body = await response.json();
  } catch {
    // not our JSON error shape (a proxy's page): the status says enough
  }
  const retry = Number(response.headers.get("Retry-After"));
  const message =
    response.status === 429
      ? "Too many requests right now."
      : response.status >= 500
        ? "The service is having trouble. Please try again shortly."
        : (body.message ?? response.statusText ?? "Request failed");
  return new ApiError(response.status, message, body.code, body.details, Number.isFinite(retry) && retry > 0 ? retry : null);
}

export async function api<T>(path: string, options: RequestOptions = {}): Promise<T> {
  const hadSession = session.get() !== null;
  let response = await send(path, options);
  if (response.status === 401 && hadSession && !path.startsWith("/auth/")) {
    if (await refreshSession()) {
      response = await send(path, options);
    } else {
      session.set(null);
      sessionExpired.set(true);
    }
  }
  const mode = response.headers.get("X-Data-Mode");
  if (mode && mode !== dataMode.get()) dataMode.set(mode);
  if (!response.ok) throw await toError(response);
  if (response.status === 204) return undefined as T;
  return (await response.json()) as T;
}
