import { useEffect, useState } from "preact/hooks";
import { ApiError } from "../api/client";
import { confirmPasswordReset, requestPasswordReset, signIn, signUp, verifyEmail } from "../api/auth";
import { ErrorBox, Loading } from "../components/States";
import { useTitle } from "../hooks";
import { Link, navigate, useLocation } from "../router";

/** Where to go after signing in: only a path of this app, never another site. */
function nextPath(query: URLSearchParams): string {
  const next = query.get("next") ?? "/";
  return next.startsWith("/") && !next.startsWith("//") ? next : "/";
}

function CredentialsForm({
  title,
  submitText,
  onSubmit,
  newPassword,
  children,
}: {
  title: string;
  submitText: string;
  onSubmit: (email: string, password: string) => Promise<void>;
  newPassword?: boolean;
  children?: preact.ComponentChildren;
}) {
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiError | null>(null);
  const submit = (event: Event) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    onSubmit(email.trim(), password).catch((e: ApiError) => {
      setError(e);
      setBusy(false);
    });
  };
  return (
    <form class="card narrow" onSubmit={submit} aria-labelledby="credentials-title">
      <h1 id="credentials-title">{title}</h1>
      {children}
      <label>
        E-mail
        <input name="email" type="email" autocomplete="email" required value={email} onInput={(e) => setEmail(e.currentTarget.value)} />
      </label>
      <label>
        Password
        <input
          name="password"
          type="password"
          autocomplete={newPassword ? "new-password" : "current-password"}
          minLength={newPassword ? 10 : undefined}
          required
          value={password}
          onInput={(e) => setPassword(e.currentTarget.value)}
          aria-describedby={newPassword ? "password-help" : undefined}
        />
      </label>
      {newPassword && (
        <p id="password-help" class="muted small">
          At least 10 characters, and not easy to guess.
        </p>
      )}
      <button type="submit" disabled={busy}>
        {submitText}
      </button>
      {error && <ErrorBox error={error} />}
    </form>
  );
}

export function SignIn({ reason }: { reason?: string }) {
  useTitle("Sign in");
  const { query, path } = useLocation();
  const next = path === "/signin" ? nextPath(query) : path;
  const expired = query.get("expired") === "1";
  return (
    <section class="page">
      <CredentialsForm title="Sign in" submitText="Sign in" onSubmit={(email, password) => signIn(email, password).then(() => navigate(next))}>
        {(reason || expired) && (
          <p class="notice" role="status">
            {expired ? "Your session has ended; please sign in again." : reason}
          </p>
        )}
      </CredentialsForm>
      <p class="center">
        New here? <Link href={next === "/" ? "/signup" : `/signup?next=${encodeURIComponent(next)}`}>Create an account</Link> · <Link href="/forgot-password">Forgot your password?</Link>
      </p>
    </section>
  );
}

export function SignUp() {
  useTitle("Sign up");
  const { query } = useLocation();
  return (
    <section class="page">
      <CredentialsForm
        title="Create an account"
        submitText="Sign up"
        newPassword
        onSubmit={(email, password) => signUp(email, password).then(() => navigate(nextPath(query)))}
      />
      <p class="center">
        Already registered? <Link href="/signin">Sign in</Link>
      </p>
    </section>
  );
}

export function ForgotPassword() {
  useTitle("Reset your password");
  const [email, setEmail] = useState("");
  const [state, setState] = useState<"idle" | "sent" | ApiError>("idle");
  return (
    <section class="page">
      <form
        class="card narrow"
        aria-labelledby="forgot-title"
        onSubmit={(e) => {
          e.preventDefault();
          requestPasswordReset(email.trim()).then(() => setState("sent"), setState);
        }}
      >
        <h1 id="forgot-title">Reset your password</h1>
        {state === "sent" ? (
          <p role="status">If an account uses {email}, an e-mail with a link to choose a new password is on its way.</p>
        ) : (
          <>
            <label>
              E-mail
              <input type="email" autocomplete="email" required value={email} onInput={(e) => setEmail(e.currentTarget.value)} />
            </label>
            <button type="submit">Send the link</button>
            {state instanceof ApiError && <ErrorBox error={state} />}
          </>
        )}
      </form>
    </section>
  );
}

export function ResetPassword() {
  useTitle("Choose a new password");
  const { query } = useLocation();
  const token = query.get("token") ?? "";
  const [password, setPassword] = useState("");
  const [state, setState] = useState<"idle" | "done" | ApiError>("idle");
  return (
    <section class="page">
      <form
        class="card narrow"
        aria-labelledby="reset-title"
        onSubmit={(e) => {
          e.preventDefault();
          confirmPasswordReset(token, password).then(() => setState("done"), setState);
        }}
      >
        <h1 id="reset-title">Choose a new password</h1>
        {!token ? (
          <p role="alert">
            This link has no token. Ask for a <Link href="/forgot-password">new link</Link>.
          </p>
        ) : state === "done" ? (
          <p role="status">
            Your password is changed. <Link href="/signin">Sign in</Link> with it.
          </p>
        ) : (
          <>
            <label>
              New password
              <input type="password" autocomplete="new-password" minLength={10} required value={password} onInput={(e) => setPassword(e.currentTarget.value)} />
            </label>
            <button type="submit">Save the new password</button>
            {state instanceof ApiError && <ErrorBox error={state} />}
          </>
        )}
      </form>
    </section>
  );
}

export function VerifyEmail() {
  useTitle("Verify your e-mail");
  const { query } = useLocation();
  const token = query.get("token") ?? "";
  const [state, setState] = useState<"busy" | "done" | ApiError>("busy");
  useEffect(() => {
    if (token) verifyEmail(token).then(() => setState("done"), setState);
  }, [token]);
  return (
    <section class="page">
      <div class="card narrow">
        <h1>Verify your e-mail</h1>
        {!token ? (
          <p role="alert">This link has no token.</p>
        ) : state === "busy" ? (
          <Loading label="Checking your link…" />
        ) : state === "done" ? (
          <p role="status">
            Your e-mail address is verified. Back to the <Link href="/">leaderboard</Link>.
          </p>
        ) : (
          <ErrorBox error={state} />
        )}
      </div>
    </section>
  );
}
