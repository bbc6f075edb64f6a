import type { ComponentChildren, JSX } from "preact";
import { createStore, useStore } from "./store";

/** Client routes over the History API: the service answers every such URL with index.html. */
export interface Location {
  path: string;
  query: URLSearchParams;
}

function current(): Location {
  return { path: window.location.pathname, query: new URLSearchParams(window.location.search) };
}

export const location = createStore<Location>(current());
window.addEventListener("popstate", () => location.set(current()));

export function navigate(to: string, options: { replace?: boolean; keepScroll?: boolean } = {}): void {
  window.history[options.replace ? "replaceState" : "pushState"](null, "", to);
  location.set(current());
  if (!options.keepScroll) window.scrollTo(0, 0);
}

/** The current URL with some query parameters changed (empty values removed). */
export function withQuery(changes: Record<string, string | number | null | undefined>): string {
  const { path, query } = location.get();
  const next = new URLSearchParams(query);
  for (const [key, value] of Object.entries(changes)) {
    if (value === null || value === undefined || value === "") next.delete(key);
    else next.set(key, String(value));
  }
  const text = next.toString();
  return text ? `${path}?${text}` : path;
}

export function useLocation(): Location {
  return useStore(location);
}

/** `/box/:ref` against `/box/op-13` gives `{ref: "op-13"}`; null when it does not match. */
export function match(pattern: string, path: string): Record<string, string> | null {
  if (pattern === "/") return path === "/" ? {} : null;
  const want = pattern.split("/");
  const got = path.replace(/\/+$/, "").split("/");
  if (want.length !== got.length) return null;
  const params: Record<string, string> = {};
  for (let i = 0; i < want.length; i++) {
    if (want[i].startsWith(":")) params[want[i].slice(1)] = decodeURIComponent(got[i]);
    else if (want[i] !== got[i]) return null;
  }
  return params;
}

type LinkProps = JSX.HTMLAttributes<HTMLAnchorElement> & { href: string; children?: ComponentChildren };

export function Link({ href, onClick, ...props }: LinkProps) {
  return (
    <a
      href={href}
      onClick={(event) => {
        if (onClick) (onClick as (e: MouseEvent) => void)(event);
        if (event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey) return;
        event.preventDefault();
        navigate(href);
      }}
      {...props}
    />
  );
}
