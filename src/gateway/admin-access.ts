/**
 * Who may use the operator endpoints under /_tclocal/. One rule for every
 * admin path, present and future (state, reset, the console, …), applied by
 * the HTTP layer from the request head alone, before any body is read:
 *
 * 1. the `Host` is a loopback name or address, or an address tclocal
 *    listens on, with tclocal's port (a page whose name was rebound to
 *    127.0.0.1 still sends its own name);
 * 2. no cross-site request: an `Origin` (or `Sec-Fetch-Site`) that is not
 *    tclocal's own is refused, and a state-changing request must carry JSON
 *    (a cross-site form or `text/plain` post cannot);
 * 3. the admin token, when one is required.
 *
 * `GET /_tclocal/health` stays open (no Host or token check) so readiness
 * probes keep working; it reveals nothing but the version and product list.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { isIP } from 'node:net';
import { join } from 'node:path';
import type { Config } from '../config';
import { isLoopbackAddress, localAddresses, normaliseAddress } from '../core/addresses';
import type { RawReply } from './reply';

export const ADMIN_PREFIX = '/_tclocal/';
export const ADMIN_TOKEN_HEADER = 'x-tclocal-admin-token';
export const ADMIN_TOKEN_COOKIE = 'tclocal_admin_token';

/** Paths anyone may read: readiness probes send whatever Host they like. */
const OPEN = new Set(['GET /_tclocal/health', 'HEAD /_tclocal/health']);
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);
/**
 * The console's shell (its page and bundle) holds no state: a browser opening
 * the address printed at start-up cannot send a header, so these skip the
 * token (Host and Origin are still checked). The page then sends the token
 * from its `?token=` on every call.
 */
const CONSOLE_SHELL = new Set(['GET /_tclocal/ui', 'GET /_tclocal/ui/', 'GET /_tclocal/ui/app.js', 'GET /_tclocal/ui/app.css']);

export interface AdminAccessPolicy {
  /** The address tclocal was told to listen on. */
  listenHost: string;
  /** The port it serves on (after a port 0 was resolved). */
  port: number;
  /** Required on every admin request when set. */
  token?: string;
}

const WILDCARDS = new Set(['0.0.0.0', '::', '']);

/** Whether listening on `host` keeps tclocal reachable from this machine only. */
export const listensOnLoopbackOnly = (host: string): boolean => host === 'localhost' || isLoopbackAddress(host);

/**
 * The token every admin request must carry, or undefined when none is
 * needed: a configured token is always required; otherwise one is generated
 * when strict authentication is on, when tclocal listens beyond loopback,
 * or when the setting asks for it always.
 */
export function resolveAdminToken(config: Pick<Config, 'adminToken' | 'adminTokenRequired' | 'auth' | 'host'>): { token?: string; generated: boolean } {
  if (config.adminToken) return { token: config.adminToken, generated: false };
  const needed = config.adminTokenRequired === 'always' || config.auth === 'strict' || !listensOnLoopbackOnly(config.host);
  return needed ? { token: randomBytes(24).toString('base64url'), generated: true } : { generated: false };
}

/** Splits `name:port`, `[v6]:port`, `name` into lower-case host and port. */
function splitHost(value: string): { host: string; port?: number } | undefined {
  const m = /^(\[[0-9a-f:.]+\]|[^:[\]]+)(?::(\d{1,5}))?$/i.exec(value.trim());
  if (!m) return undefined;
  return { host: m[1].replace(/^\[|\]$/g, '').toLowerCase().replace(/\.$/, ''), port: m[2] === undefined ? undefined : Number(m[2]) };
}

/** Whether `value` (a Host header or an origin's host:port) names this tclocal. */
function namesThisServer(value: string, policy: AdminAccessPolicy, defaultPort: number): boolean {
  const parts = splitHost(value);
  if (!parts) return false;
  if ((parts.port ?? defaultPort) !== policy.port) return false;
  const { host } = parts;
  if (host === 'localhost' || isLoopbackAddress(host)) return true;
  if (!isIP(host)) return false; // any other name may have been rebound
  const listen = policy.listenHost.toLowerCase();
  if (WILDCARDS.has(listen)) return localAddresses().has(normaliseAddress(host));
  return host === listen;
}

function sameOrigin(origin: string, policy: AdminAccessPolicy): boolean {
  const m = /^(https?):\/\/([^/]+)$/i.exec(origin);
  if (!m) return false; // `null` (sandboxed pages, file:) and anything odd
  return namesThisServer(m[2], policy, m[1].toLowerCase() === 'https' ? 443 : 80);
}

const first = (v: string | string[] | undefined): string | undefined => (Array.isArray(v) ? v[0] : v);

function presentedToken(req: IncomingMessage): string | undefined {
  const auth = first(req.headers.authorization);
  if (auth && /^Bearer\s+/i.test(auth)) return auth.replace(/^Bearer\s+/i, '').trim();
  const header = first(req.headers[ADMIN_TOKEN_HEADER]);
  if (header) return header.trim();
  const cookie = first(req.headers.cookie);
  if (cookie) {
    for (const part of cookie.split(';')) {
      const eq = part.indexOf('=');
      if (eq > 0 && part.slice(0, eq).trim() === ADMIN_TOKEN_COOKIE) return part.slice(eq + 1).trim();
    }
  }
  return undefined;
}

function tokenMatches(given: string | undefined, expected: string): boolean {
  if (given === undefined) return false;
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

const refuse = (status: number, error: string, extra: Record<string, string> = {}): RawReply => ({
  status,
  headers: { 'Content-Type': 'application/json', ...extra },
  body: JSON.stringify({ error }),
});

/**
 * Undefined when the request may reach the admin handler; otherwise the
 * refusal to send (403 for a foreign Host or Origin, 415 for a body that is
 * not JSON, 401 for a missing or wrong token).
 */
export function adminAccessDenial(req: IncomingMessage, policy: AdminAccessPolicy): RawReply | undefined {
  const method = req.method ?? 'GET';
  const path = (req.url ?? '').split('?')[0];
  const origin = first(req.headers.origin);
  if (origin !== undefined && !sameOrigin(origin, policy)) {
    return refuse(403, `cross-origin requests to ${ADMIN_PREFIX} are refused (Origin ${JSON.stringify(origin)})`);
  }
  const fetchSite = first(req.headers['sec-fetch-site']);
  if (fetchSite === 'cross-site' || fetchSite === 'same-site') {
    return refuse(403, `cross-site requests to ${ADMIN_PREFIX} are refused`);
  }
  if (OPEN.has(`${method} ${path}`)) return undefined;

  const host = first(req.headers.host) ?? '';
  if (!namesThisServer(host, policy, 80)) {
    return refuse(403, `admin endpoints answer only requests to a loopback address or an address tclocal listens on, with its port ${policy.port}; Host ${JSON.stringify(host)} is refused`);
  }
  if (!SAFE_METHODS.has(method)) {
    const type = (first(req.headers['content-type']) ?? '').split(';')[0].trim().toLowerCase();
    const hasBody = req.headers['transfer-encoding'] !== undefined || Number(req.headers['content-length'] ?? 0) > 0;
    if ((hasBody || type !== '') && type !== 'application/json') {
      return refuse(415, `${method} ${path} takes an application/json body (or none); got ${JSON.stringify(type || '(no Content-Type)')}`);
    }
  }
  if (policy.token !== undefined && !CONSOLE_SHELL.has(`${method} ${path}`) && !tokenMatches(presentedToken(req), policy.token)) {
    return refuse(401, `${path} requires the admin token (TCLOCAL_ADMIN_TOKEN): send "Authorization: Bearer <token>" or "X-Tclocal-Admin-Token: <token>"`, {
      'WWW-Authenticate': 'Bearer realm="tclocal admin"',
    });
  }
  return undefined;
}

/** Where a durable server keeps the token it generated, for `tclocal export/import/reset` on the same machine. */
export const adminTokenFile = (dataDir: string): string => join(dataDir, 'admin-token');
