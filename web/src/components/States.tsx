import type { ComponentChildren } from "preact";
import type { ApiError } from "../api/client";
import type { Loaded } from "../hooks";

export function Loading({ label = "Loading…" }: { label?: string }) {
  return (
    <div class="state loading" role="status" aria-live="polite">
      <span class="spinner" aria-hidden="true" />
      {label}
    </div>
  );
}

export function Empty({ children }: { children: ComponentChildren }) {
  return <div class="state empty">{children}</div>;
}

export function errorText(error: ApiError): string {
  if (error.status === 429) {
    return error.retryAfter
      ? `Too many requests right now; trying again in ${error.retryAfter} s.`
      : "Too many requests right now; try again in a minute.";
  }
  if (error.status === 422 && error.details) return `Please check: ${fieldMessages(error.details).join(" ")}`;
  return error.message;
}

/** `{"json": {"price": ["Must be greater than 0."]}}` → `["price: Must be greater than 0."]`. */
export function fieldMessages(details: Record<string, unknown>): string[] {
  const out: string[] = [];
  for (const fields of Object.values(details)) {
    if (fields && typeof fields === "object") {
      for (const [field, messages] of Object.entries(fields as Record<string, unknown>)) {
        out.push(`${field}: ${Array.isArray(messages) ? messages.join(" ") : JSON.stringify(messages)}`);
      }
    }
  }
  return out;
}

export function ErrorBox({ error, retry }: { error: ApiError; retry?: () => void }) {
  return (
    <div class="state error" role="alert">
      <p>{errorText(error)}</p>
      {retry && error.status !== 429 && (
        <button type="button" onClick={retry}>
          Try again
        </button>
      )}
    </div>
  );
}

/** Loading, error or the content, for one loaded value. */
export function Show<T>({
  loaded,
  children,
  label,
}: {
  loaded: Loaded<T>;
  children: (data: T) => ComponentChildren;
  label?: string;
}) {
  if (loaded.data !== undefined) return <>{children(loaded.data)}</>;
  if (loaded.error) return <ErrorBox error={loaded.error} retry={loaded.reload} />;
  return <Loading label={label} />;
}
