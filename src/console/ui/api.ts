/**
 * Talking to tclocal's admin endpoints. The admin token, when the server
 * requires one, comes from `?token=` in the console's address (as printed
 * at start-up); it is kept in this tab's sessionStorage, removed from the
 * address bar, and sent as a header, never in a URL.
 */

const TOKEN_KEY = 'tclocal.adminToken';

export function adoptTokenFromAddress(): void {
  const url = new URL(location.href);
  const token = url.searchParams.get('token');
  if (!token) return;
  sessionStorage.setItem(TOKEN_KEY, token);
  url.searchParams.delete('token');
  history.replaceState(null, '', url.pathname + url.search + url.hash);
}

function headers(withBody: boolean): Record<string, string> {
  const h: Record<string, string> = {};
  const token = sessionStorage.getItem(TOKEN_KEY);
  if (token) h['X-Tclocal-Admin-Token'] = token;
  if (withBody) h['Content-Type'] = 'application/json';
  return h;
}

async function parse<T>(res: Response): Promise<T> {
  const text = await res.text();
  let body: any;
  try {
    body = text ? JSON.parse(text) : {};
  } catch {
    throw new Error(`${res.status}: ${text.slice(0, 200)}`);
  }
  if (!res.ok) {
    if (res.status === 401) throw new Error(`${body.error ?? 'unauthorised'} — open the console with the address printed at start-up (it carries ?token=).`);
    throw new Error(body.error ?? `HTTP ${res.status}`);
  }
  return body as T;
}

export async function getJson<T>(path: string): Promise<T> {
  return parse<T>(await fetch(path, { headers: headers(false) }));
}

/** State-changing calls always carry a JSON body (an empty object when there is nothing to say). */
export async function sendJson<T>(method: 'POST' | 'DELETE', path: string, body: unknown = {}): Promise<T> {
  return parse<T>(await fetch(path, { method, headers: headers(true), body: typeof body === 'string' ? body : JSON.stringify(body) }));
}

export const query = (params: Record<string, string | number | undefined>): string => {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== '') q.set(k, String(v));
  const s = q.toString();
  return s ? `?${s}` : '';
};
