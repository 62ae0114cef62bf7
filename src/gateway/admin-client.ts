/**
 * The command line's side of the admin endpoints: `tclocal export/import/reset`
 * talk to a running server when one answers on the configured address, with
 * the admin token, and work on the data directory only when none does.
 */
import { existsSync, readFileSync } from 'node:fs';
import type { Config } from '../config';
import { ADMIN_TOKEN_HEADER, adminTokenFile } from './admin-access';

export interface AdminTarget {
  url: string;
  token?: string;
}

/** The URL a client on this machine reaches the configured server at. */
export function localUrl(config: Pick<Config, 'host' | 'port'>): string {
  const host = config.host === '0.0.0.0' || config.host === '' ? '127.0.0.1' : config.host === '::' ? '::1' : config.host;
  return `http://${host.includes(':') ? `[${host}]` : host}:${config.port}`;
}

/** The running tclocal at the configured address, or undefined when nothing (or something else) answers. */
export async function findRunningServer(config: Pick<Config, 'host' | 'port' | 'adminToken' | 'dataDir'>): Promise<AdminTarget | undefined> {
  if (config.port === 0) return undefined;
  const url = localUrl(config);
  try {
    const res = await fetch(`${url}/_tclocal/health`, { signal: AbortSignal.timeout(2000) });
    const body = (await res.json()) as { status?: string };
    if (!res.ok || body.status !== 'ready') return undefined;
  } catch {
    return undefined;
  }
  let token = config.adminToken || undefined;
  const file = adminTokenFile(config.dataDir);
  if (!token && existsSync(file)) token = readFileSync(file, 'utf8').trim() || undefined;
  return { url, token };
}

export class AdminCallError extends Error {}

/** One admin call; a refusal becomes an AdminCallError carrying the server's reason. */
export async function adminCall(target: AdminTarget, method: 'GET' | 'POST', path: string, body?: string): Promise<string> {
  const headers: Record<string, string> = {};
  if (target.token) headers[ADMIN_TOKEN_HEADER] = target.token;
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const res = await fetch(`${target.url}${path}`, { method, headers, body });
  const text = await res.text();
  if (!res.ok) {
    let reason = text;
    try {
      reason = (JSON.parse(text) as { error?: string }).error ?? text;
    } catch {
      // not JSON: keep the text
    }
    const hint = res.status === 401 ? ' (set TCLOCAL_ADMIN_TOKEN to the token the server printed)' : '';
    throw new AdminCallError(`the running server at ${target.url} refused ${method} ${path}: ${reason}${hint}`);
  }
  return text;
}
