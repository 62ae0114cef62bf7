import { useEffect, useRef, useState } from 'preact/hooks';

/** Calls `fn` now and every `ms` while the view is shown (and the tab visible). */
export function usePolling(fn: () => void | Promise<void>, ms: number, deps: unknown[]): void {
  const saved = useRef(fn);
  saved.current = fn;
  useEffect(() => {
    let stopped = false;
    let timer: ReturnType<typeof setTimeout>;
    const tick = async () => {
      if (!document.hidden) {
        try {
          await saved.current();
        } catch {
          // the view shows its own error
        }
      }
      if (!stopped) timer = setTimeout(tick, ms);
    };
    void tick();
    return () => {
      stopped = true;
      clearTimeout(timer);
    };
  }, deps);
}

/** Runs `fn` when `deps` change, and again every `refreshMs` if given (while the tab is visible). */
export function useAsync<T>(fn: () => Promise<T>, deps: unknown[], refreshMs?: number): { data?: T; error?: string; reload: () => void } {
  const [state, setState] = useState<{ data?: T; error?: string }>({});
  const [n, setN] = useState(0);
  useEffect(() => {
    if (!refreshMs) return;
    const timer = setInterval(() => document.hidden || setN((x) => x + 1), refreshMs);
    return () => clearInterval(timer);
  }, [refreshMs]);
  useEffect(() => {
    let live = true;
    fn().then(
      (data) => live && setState({ data }),
      (err: Error) => live && setState({ error: err.message }),
    );
    return () => {
      live = false;
    };
  }, [...deps, n]);
  return { ...state, reload: () => setN((x) => x + 1) };
}

export const show = (v: unknown): string => (v === null || v === undefined ? '' : typeof v === 'object' ? JSON.stringify(v) : String(v));

export function relative(iso: string): string {
  const s = Math.round((Date.parse(iso) - Date.now()) / 1000);
  if (s <= 0) return 'due now';
  if (s < 120) return `in ${s} s`;
  return `in ${Math.round(s / 60)} min`;
}
