import { ApiError, api, cookie, refreshSession, restoring, session, sessionExpired } from "./client";
import type { components } from "./schema";

type Tokens = components["schemas"]["Tokens"];

/** Sign-in and sign-up ask for a browser session: the refresh token comes back as an httpOnly cookie
 * scoped to the refresh route, the access token in the body (kept in memory). A server that does not
 * know `session` yet (422 naming it) gets the plain request; the session then ends with the tab. */
async function withCookieSession<T>(path: string, body: Record<string, unknown>): Promise<T> {
  try {
    return await api<T>(path, { method: "POST", body: { ...body, session: "cookie" } });
  } catch (error) {
    const fields = (error as ApiError).details as { json?: Record<string, unknown> } | undefined;
    if (error instanceof ApiError && error.status === 422 && fields?.json && "session" in fields.json) {
      return api<T>(path, { method: "POST", body });
    }
    throw error;
  }
}

export async function signIn(email: string, password: string): Promise<void> {
  const tokens = await withCookieSession<Tokens>("/auth/login", { email, password });
  session.set({ accessToken: tokens.access_token, email });
  sessionExpired.set(false);
}

/** Registering answers the same whether or not the address had an account (its owner is e-mailed
 * instead), so it signs no one in: sign in next. If that fails, the address had an account already. */
export async function signUp(email: string, password: string): Promise<void> {
  await api<void>("/auth/register", { method: "POST", body: { email, password } });
  try {
    await signIn(email, password);
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) {
      throw new ApiError(
        401,
        "Could not sign you in with this address and password. If the address has an account already, we have " +
          "e-mailed it how to sign in or reset its password.",
        error.code,
      );
    }
    throw error;
  }
}

export async function signOut(): Promise<void> {
  try {
    await api<void>("/auth/logout", { method: "POST" });
  } finally {
    session.set(null);
  }
}

/** On load: a refresh cookie from an earlier visit gives a session back without a password. */
export async function restoreSession(): Promise<void> {
  if (!cookie("csrf_refresh_token")) return;
  restoring.set(true);
  try {
    await restore();
  } finally {
    restoring.set(false);
  }
}

async function restore(): Promise<void> {
  if (await refreshSession()) {
    try {
      const me = await api<components["schemas"]["User"]>("/me");
      const current = session.get();
      if (current) session.set({ ...current, email: me.email });
    } catch {
      // the session is there; the e-mail is only for the menu
    }
  }
}

export const requestPasswordReset = (email: string) =>
  api<void>("/auth/password-reset", { method: "POST", body: { email } });
export const confirmPasswordReset = (token: string, password: string) =>
  api<void>("/auth/password-reset/confirm", { method: "POST", body: { token, password } });
export const verifyEmail = (token: string) => api<void>("/auth/verify-email", { method: "POST", body: { token } });
