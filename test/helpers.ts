/**
 * Test harness: starts the real tclocal server on a free port and builds
 * official SDK clients pointed at it.
 */
import assert from 'node:assert/strict';
import type { IncomingHttpHeaders } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { DEFAULT_ACCOUNT, loadConfig, type AccountConfig, type Config } from '../src/config';
import { startServer, type DevelopmentOptions, type RunningServer } from '../src/server';

export const ACCOUNT_A: AccountConfig = { secretId: 'AKIDtestAccountA0000000000000000000', secretKey: 'secret-key-of-account-a', appId: 1251000001, uin: '100000000101' };
export const ACCOUNT_B: AccountConfig = { secretId: 'AKIDtestAccountB0000000000000000000', secretKey: 'secret-key-of-account-b', appId: 1251000002, uin: '100000000102' };
export { DEFAULT_ACCOUNT };
export { captureSdkRequest, cnClient, intlClient, type CapturedRequest, type ClientOptions } from '../testkit/sdk';
import { cnClient } from '../testkit/sdk';

/**
 * A loopback /24 of its own for each test server's proxies, so test files
 * running at the same time never bind the same address.
 */
export function randomPool(): string {
  const n = Math.floor(Math.random() * 100 * 256);
  return `127.${100 + (n >> 8)}.${n & 255}.0/24`;
}

/** One local CA for every test server of the machine, made once (its creation is safe in parallel). */
export const TEST_CA_DIR = join(tmpdir(), 'tclocal-test-ca');

export async function startTclocal(overrides: Partial<Config> = {}, dev: DevelopmentOptions = {}): Promise<RunningServer> {
  const config = loadConfig({}, {}, {
    port: 0,
    inMemory: true,
    caDir: TEST_CA_DIR,
    accounts: [DEFAULT_ACCOUNT, ACCOUNT_A, ACCOUNT_B],
    logLevel: 'silent',
    transitionMs: 0,
    dataplanePool: randomPool(),
    dnsPort: 0,
    ...overrides,
  });
  // Every business error a handler answers must be one its action documents,
  // and every success must match the action's response model.
  return startServer(config, pino({ level: config.logLevel }), { strictErrorCodes: true, strictResponses: true, ...dev });
}

/**
 * Settings under which scheduled transitions wait until the test applies
 * them (`advance(server)`), so that it sees every transient status.
 */
export const MANUAL_TRANSITIONS = { transitions: 'manual', transitionMs: 1000 } as const satisfies Partial<Config>;

/**
 * A test server with a GAAP client of ACCOUNT_A (`a`) and one of ACCOUNT_B
 * (`b`), for the tests that one account never sees or touches the other's
 * resources.
 */
export async function startWithTwoAccounts(overrides: Partial<Config> = {}): Promise<{ server: RunningServer; a: any; b: any }> {
  const server = await startTclocal(overrides);
  return { server, a: cnClient('gaap', server, { account: ACCOUNT_A }), b: cnClient('gaap', server, { account: ACCOUNT_B }) };
}

/** Applies every due pending transition through the admin endpoint; returns how many it applied. */
export async function advance(server: RunningServer): Promise<number> {
  const res = await fetch(server.url + '/_tclocal/transitions/advance', { method: 'POST' });
  assert.equal(res.status, 200);
  return ((await res.json()) as { applied: number }).applied;
}

/** Runs a promise that should reject with an SDK error and returns its code. */
export async function errorCode(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (err) {
    const e = err as { code?: string; message?: string };
    if (e.code) return e.code;
    throw err;
  }
  throw new Error('expected the call to fail');
}

/** Sends a request to tclocal as-is (Host header kept as the SDK wrote it). */
export async function replay(
  server: { port: number },
  r: { method: string; url: string; headers: IncomingHttpHeaders; body: Buffer | string },
): Promise<{ status: number; headers: Headers; json: any; text: string }> {
  const headers = new Headers();
  for (const [k, v] of Object.entries(r.headers)) {
    if (v === undefined || ['host', 'content-length', 'connection', 'transfer-encoding'].includes(k)) continue;
    headers.set(k, Array.isArray(v) ? v.join(', ') : v);
  }
  const { request } = require('node:http') as typeof import('node:http');
  return new Promise((resolve, reject) => {
    const body = typeof r.body === 'string' ? Buffer.from(r.body) : r.body;
    const req = request(
      { host: '127.0.0.1', port: server.port, method: r.method, path: r.url, headers: { ...Object.fromEntries(headers), host: String(r.headers.host ?? `127.0.0.1:${server.port}`), 'content-length': String(body.length) } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let json: any;
          try {
            json = JSON.parse(text);
          } catch {
            json = undefined;
          }
          const h = new Headers();
          for (const [k, v] of Object.entries(res.headers)) if (v !== undefined) h.set(k, Array.isArray(v) ? v.join(', ') : v);
          resolve({ status: res.statusCode!, headers: h, json, text });
        });
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}
