import type { IncomingMessage } from 'node:http';
import type { StateDump } from '../store/types';
import type { AdminHandler, RawReply } from './http';

export interface AdminDeps {
  version: string;
  services: () => string[];
  reset(): Promise<void>;
  advanceTransitions(): Promise<number>;
  exportState(): Promise<StateDump>;
  importState(dump: StateDump): Promise<void>;
  coverage(): unknown;
  /** More endpoints under /_tclocal/ (the console's), answered like the ones here. */
  routes?: readonly AdminRoute[];
  /** What the GAAP data plane has bound and forwards to (absent: the data plane is off). */
  dataplane?(): unknown;
}

export interface AdminRoute {
  method: string;
  /** The whole path, or a pattern whose groups become `params`. */
  path: string | RegExp;
  handle(req: IncomingMessage, body: Buffer, params: string[]): Promise<RawReply>;
}

export const json = (status: number, value: unknown): RawReply => ({
  status,
  headers: { 'Content-Type': 'application/json' },
  body: JSON.stringify(value),
});

/** Operator endpoints under /_tclocal/: plain JSON, plain HTTP statuses. */
export function adminHandler(d: AdminDeps): AdminHandler {
  const routes: Record<string, (req: IncomingMessage, body: Buffer) => Promise<RawReply>> = {
    'GET /_tclocal/health': async () => json(200, { status: 'ready', services: d.services(), version: d.version }),
    'POST /_tclocal/reset': async () => {
      await d.reset();
      return json(200, { reset: true });
    },
    'POST /_tclocal/transitions/advance': async () => json(200, { applied: await d.advanceTransitions() }),
    'GET /_tclocal/state': async () => json(200, await d.exportState()),
    'POST /_tclocal/state': async (_req, body) => {
      let dump: StateDump;
      try {
        dump = JSON.parse(body.toString('utf8'));
      } catch {
        return json(400, { error: 'the body is not valid JSON' });
      }
      try {
        await d.importState(dump);
      } catch (err) {
        return json(400, { error: (err as Error).message });
      }
      return json(200, { imported: true });
    },
    'GET /_tclocal/coverage': async () => json(200, d.coverage()),
    'GET /_tclocal/dataplane': async () => json(200, d.dataplane?.() ?? { enabled: false, accounts: [] }),
  };
  return async (req, body) => {
    const path = (req.url ?? '').split('?')[0];
    const route = routes[`${req.method} ${path}`];
    if (route) return route(req, body);
    for (const r of d.routes ?? []) {
      if (r.method !== req.method) continue;
      if (typeof r.path === 'string' ? r.path === path : r.path.test(path)) {
        return r.handle(req, body, typeof r.path === 'string' ? [] : r.path.exec(path)!.slice(1));
      }
    }
    const endpoints = [...Object.keys(routes), ...(d.routes ?? []).map((r) => `${r.method} ${typeof r.path === 'string' ? r.path : r.path.source}`)];
    return json(404, { error: `no admin endpoint ${req.method} ${path}`, endpoints });
  };
}
