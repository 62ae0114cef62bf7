import { readFileSync } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import { join } from 'node:path';
import { json, type AdminRoute } from '../gateway/admin';
import type { RawReply } from '../gateway/http';
import type { BrowseKind } from '../services/browse';
import type { Store } from '../store/types';
import { FaultRuleError, FaultRules, type FaultCatalogueEntry } from './faults';
import { RequestLog, type RequestQuery } from './request-log';
import { liveByResource } from './live';
import { BrowseError, ResourceBrowser } from './resources';
import type { TrafficSnapshot, TrafficSource } from './traffic';
import { LIVE_KINDS, type ResourceRow } from './wire';

const LIVE_KIND_NAMES = new Set<string>(Object.values(LIVE_KINDS));

/**
 * The local console: the request log, fault injection, resource browsing,
 * traffic, and the single-page app that shows them, all under /_tclocal/.
 */

export interface ConsoleDeps {
  store: Store;
  kinds: readonly BrowseKind[];
  /** Uins of the configured accounts. */
  accounts: () => string[];
  faultCatalogue: readonly FaultCatalogueEntry[];
  /** Calls kept by the request log; 0 turns it off. */
  requestLogSize: number;
  /** The data plane's counters, once there is one. */
  traffic?: TrafficSource;
}

export interface Console {
  /** Undefined when the request log is off. */
  requestLog?: RequestLog;
  faults: FaultRules;
  routes: AdminRoute[];
}

/** Where `npm run build` puts the bundled app (dist/ui, beside dist/src). */
const UI_DIR = join(__dirname, '..', '..', 'ui');

const HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>tclocal console</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/_tclocal/ui/app.css">
</head>
<body>
<div id="app"></div>
<script src="/_tclocal/ui/app.js"></script>
</body>
</html>
`;

/** The app loads nothing but its own files. */
const UI_HEADERS = {
  'Cache-Control': 'no-cache',
  'Content-Security-Policy': "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
};

const badRequest = (message: string): RawReply => json(400, { error: message });

function queryOf(req: IncomingMessage): URLSearchParams {
  const url = req.url ?? '';
  const q = url.indexOf('?');
  return new URLSearchParams(q < 0 ? '' : url.slice(q + 1));
}

function parseJsonBody(body: Buffer): { value?: unknown; error?: RawReply } {
  if (body.length === 0) return {};
  try {
    return { value: JSON.parse(body.toString('utf8')) };
  } catch {
    return { error: badRequest('the body is not valid JSON') };
  }
}

/** A non-negative integer query parameter, or an error naming it. */
function integerParam(q: URLSearchParams, name: string, max = Number.MAX_SAFE_INTEGER): number | undefined | RawReply {
  const raw = q.get(name);
  if (raw === null || raw === '') return undefined;
  if (!/^\d+$/.test(raw) || Number(raw) > max) return badRequest(`${name} must be an integer from 0 to ${max}, got ${JSON.stringify(raw)}`);
  return Number(raw);
}

const isReply = (v: unknown): v is RawReply => typeof v === 'object' && v !== null && 'status' in v && 'body' in v;

function requestQuery(q: URLSearchParams): RequestQuery | RawReply {
  const known = new Set(['service', 'action', 'account', 'code', 'since', 'after', 'limit', 'faulted']);
  for (const k of q.keys()) if (!known.has(k)) return badRequest(`unknown filter ${k} (filters: ${[...known].join(', ')})`);
  const out: RequestQuery = {};
  for (const k of ['service', 'action', 'account', 'code'] as const) {
    const v = q.get(k);
    if (v) out[k] = v;
  }
  const since = q.get('since');
  if (since) {
    const ms = /^\d+$/.test(since) ? Number(since) : Date.parse(since);
    if (Number.isNaN(ms)) return badRequest(`since must be milliseconds since the epoch or an ISO 8601 time, got ${JSON.stringify(since)}`);
    out.since = ms;
  }
  const after = integerParam(q, 'after');
  if (isReply(after)) return after;
  out.after = after;
  const limit = integerParam(q, 'limit', 100_000);
  if (isReply(limit)) return limit;
  out.limit = limit;
  const faulted = q.get('faulted');
  if (faulted !== null && faulted !== 'true' && faulted !== 'false') return badRequest('faulted must be true or false');
  if (faulted === 'true') out.faulted = true;
  return out;
}

export function createConsole(d: ConsoleDeps): Console {
  const requestLog = d.requestLogSize > 0 ? new RequestLog(d.requestLogSize) : undefined;
  const faults = new FaultRules(d.faultCatalogue);
  const browser = new ResourceBrowser(d.store, d.kinds, d.accounts);
  const assets = new Map<string, { type: string; body: Buffer }>();

  const asset = (name: string, type: string): RawReply => {
    let file = assets.get(name);
    if (!file) {
      try {
        file = { type, body: readFileSync(join(UI_DIR, name)) };
      } catch {
        return json(404, { error: `the console is not built (${name} missing): run npm run build` });
      }
      assets.set(name, file);
    }
    return { status: 200, headers: { 'Content-Type': file.type, ...UI_HEADERS }, body: file.body };
  };

  const browse = async (fn: () => Promise<unknown>): Promise<RawReply> => {
    try {
      return json(200, await fn());
    } catch (err) {
      if (err instanceof BrowseError) return json(err.status, { error: err.message });
      throw err;
    }
  };

  /** Rows with the data plane's live health of their origins, when a data plane runs. */
  const withLive = async <T extends ResourceRow>(account: string, rows: T[]): Promise<T[]> => {
    if (!d.traffic || !rows.some((r) => LIVE_KIND_NAMES.has(r.kind))) return rows;
    const live = liveByResource(await d.traffic(), account);
    return rows.map((r) => (live.has(r.id) ? { ...r, live: live.get(r.id) } : r));
  };

  const account = (q: URLSearchParams): string | RawReply => {
    const a = q.get('account');
    return a && /^\d+$/.test(a) ? a : badRequest('account (a uin) is required');
  };

  const routes: AdminRoute[] = [
    { method: 'GET', path: '/_tclocal/ui', handle: async () => ({ status: 200, headers: { 'Content-Type': 'text/html; charset=utf-8', ...UI_HEADERS }, body: HTML }) },
    { method: 'GET', path: '/_tclocal/ui/', handle: async () => ({ status: 200, headers: { 'Content-Type': 'text/html; charset=utf-8', ...UI_HEADERS }, body: HTML }) },
    { method: 'GET', path: '/_tclocal/ui/app.js', handle: async () => asset('app.js', 'text/javascript; charset=utf-8') },
    { method: 'GET', path: '/_tclocal/ui/app.css', handle: async () => asset('app.css', 'text/css; charset=utf-8') },

    {
      method: 'GET', path: '/_tclocal/requests', handle: async (req) => {
        if (!requestLog) return json(200, { enabled: false, capacity: 0, requests: [] });
        const q = requestQuery(queryOf(req));
        if (isReply(q)) return q;
        return json(200, { enabled: true, capacity: requestLog.capacity, requests: requestLog.query(q) });
      },
    },
    {
      method: 'GET', path: /^\/_tclocal\/requests\/([^/]+)$/, handle: async (_req, _body, [id]) => {
        const call = requestLog?.get(decodeURIComponent(id));
        return call ? json(200, call) : json(404, { error: `no logged call with RequestId ${id} (the log keeps the last ${requestLog?.capacity ?? 0})` });
      },
    },
    { method: 'DELETE', path: '/_tclocal/requests', handle: async () => (requestLog?.clear(), json(200, { cleared: true })) },

    { method: 'GET', path: '/_tclocal/faults', handle: async () => json(200, { faults: faults.list() }) },
    {
      method: 'POST', path: '/_tclocal/faults', handle: async (_req, body) => {
        const { value, error } = parseJsonBody(body);
        if (error) return error;
        if (value === undefined) return badRequest('POST /_tclocal/faults takes a JSON rule, or an array of rules');
        try {
          const rules = (value as { rules?: unknown }).rules ?? value;
          return json(201, { faults: faults.add(rules) });
        } catch (err) {
          if (err instanceof FaultRuleError) return badRequest(err.message);
          throw err;
        }
      },
    },
    { method: 'DELETE', path: '/_tclocal/faults', handle: async () => json(200, { cleared: faults.clear() }) },
    {
      method: 'DELETE', path: /^\/_tclocal\/faults\/([^/]+)$/, handle: async (_req, _body, [id]) =>
        faults.remove(id) ? json(200, { removed: id }) : json(404, { error: `no fault rule ${id}` }),
    },

    { method: 'GET', path: '/_tclocal/resources', handle: async () => browse(() => browser.inventory()) },
    {
      method: 'GET', path: /^\/_tclocal\/resources\/([a-z]+\.[A-Za-z]+)$/, handle: async (req, _body, [kind]) => {
        const q = queryOf(req);
        const a = account(q);
        if (isReply(a)) return a;
        const offset = integerParam(q, 'offset');
        if (isReply(offset)) return offset;
        const limit = integerParam(q, 'limit', 200);
        if (isReply(limit)) return limit;
        return browse(async () => {
          const page = await browser.list(kind, a, {
            offset, limit, q: q.get('q') || undefined, status: q.get('status') || undefined, parent: q.get('parent') || undefined,
          });
          return { ...page, items: await withLive(a, page.items) };
        });
      },
    },
    {
      method: 'GET', path: /^\/_tclocal\/resources\/([a-z]+\.[A-Za-z]+)\/([^/]+)$/, handle: async (req, _body, [kind, id]) => {
        const a = account(queryOf(req));
        if (isReply(a)) return a;
        return browse(async () => {
          const detail = await browser.detail(kind, a, decodeURIComponent(id)) as ResourceRow & Record<string, unknown>;
          return (await withLive(a, [detail]))[0];
        });
      },
    },

    {
      method: 'GET', path: '/_tclocal/traffic', handle: async (req) => {
        if (!d.traffic) return json(200, { running: false, note: 'The data plane is not running: no traffic flows through the emulated proxies, so there is nothing to chart.' });
        const q = queryOf(req);
        for (const k of q.keys()) if (k !== 'account' && k !== 'proxyId') return badRequest(`unknown filter ${k} (filters: account, proxyId)`);
        const snap: TrafficSnapshot = await d.traffic();
        const account = q.get('account');
        const proxyId = q.get('proxyId');
        // Proxies without a listener have nothing to chart.
        const proxies = snap.proxies.filter((p) => p.listeners.length > 0 && (!account || p.account === account) && (!proxyId || p.proxyId === proxyId));
        return json(200, { running: true, at: snap.at, proxies });
      },
    },
  ];

  return { requestLog, faults, routes };
}
