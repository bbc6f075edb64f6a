import { useCallback, useEffect, useRef, useState } from "preact/hooks";
import { ApiError } from "./api/client";

export interface Loaded<T> {
  data: T | undefined;
  error: ApiError | undefined;
  loading: boolean;
  reload: () => void;
}

/** Loads with `load` whenever `deps` change; a 429 or 503 is tried again after its Retry-After. */
export function useApi<T>(load: () => Promise<T>, deps: unknown[]): Loaded<T> {
  const [state, setState] = useState<{ data?: T; error?: ApiError; loading: boolean }>({ loading: true });
  const [attempt, setAttempt] = useState(0);
  const live = useRef(0);
  const reload = useCallback(() => setAttempt((n) => n + 1), []);

  useEffect(() => {
    const run = ++live.current;
    let retry: ReturnType<typeof setTimeout> | undefined;
    setState((s) => ({ data: s.data, loading: true }));
    load().then(
      (data) => run === live.current && setState({ data, loading: false }),
      (error: unknown) => {
        if (run !== live.current) return;
        const apiError = error instanceof ApiError ? error : new ApiError(0, String(error));
        setState({ error: apiError, loading: false });
        if (apiError.retryAfter && apiError.retryAfter <= 60) {
          retry = setTimeout(() => setAttempt((n) => n + 1), apiError.retryAfter * 1000);
        }
      },
    );
    return () => retry && clearTimeout(retry);
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [...deps, attempt]);

  return { ...state, reload } as Loaded<T>;
}

/** Sets the page title, so each page is told apart in history, tabs and screen readers. */
export function useTitle(title: string): void {
  useEffect(() => {
    document.title = title ? `${title} · BoosterBoxPro` : "BoosterBoxPro";
  }, [title]);
}
