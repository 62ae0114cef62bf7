/**
 * Test harness: starts the real tclocal server on a free port and builds
 * official SDK clients pointed at it.
 */
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { DEFAULT_ACCOUNT, loadConfig, type AccountConfig, type Config } from '../src/config';
import { startServer, type DevelopmentOptions, type RunningServer } from '../src/server';

export const ACCOUNT_A: AccountConfig = { secretId: 'AKIDtestAccountA0000000000000000000', secretKey: 'secret-key-of-account-a', appId: 1251000001, uin: '100000000101' };
export const ACCOUNT_B: AccountConfig = { secretId: 'AKIDtestAccountB0000000000000000000', secretKey: 'secret-key-of-account-b', appId: 1251000002, uin: '100000000102' };
export { DEFAULT_ACCOUNT };

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

export interface ClientOptions {
  account?: AccountConfig;
  signMethod?: 'TC3-HMAC-SHA256' | 'HmacSHA256' | 'HmacSHA1';
  reqMethod?: 'POST' | 'GET';
  language?: 'zh-CN' | 'en-US';
  region?: string;
  /** Endpoint host instead of 127.0.0.1:PORT. */
  endpoint?: string;
  /** HTTP proxy URL: the SDK tunnels (CONNECT) through it to the endpoint. */
  proxy?: string;
}

type Services = 'gaap' | 'ssl' | 'ams' | 'tag';
const VERSIONS: Record<Services, string> = { gaap: 'v20180529', ssl: 'v20191205', ams: 'v20201229', tag: 'v20180813' };

/** A client of the mainland SDK (tencentcloud-sdk-nodejs), TC3 JSON by default. */
export function cnClient(service: Services, server: { port: number }, o: ClientOptions = {}): any {
  const mod = require(`tencentcloud-sdk-nodejs/tencentcloud/services/${service}`)[service];
  const account = o.account ?? DEFAULT_ACCOUNT;
  return new mod[VERSIONS[service]].Client({
    credential: { secretId: account.secretId, secretKey: account.secretKey },
    region: o.region ?? '',
    profile: {
      signMethod: o.signMethod ?? 'TC3-HMAC-SHA256',
      language: o.language,
      httpProfile: { endpoint: o.endpoint ?? `127.0.0.1:${server.port}`, protocol: 'http://', reqMethod: o.reqMethod ?? 'POST', reqTimeout: 30, proxy: o.proxy },
    },
  });
}

/**
 * A client of the international SDK (tencentcloud-sdk-nodejs-intl-en): v1 form + HmacSHA256 by default.
 * Its methods return promises of the SDK's response model objects; errors carry `code`.
 */
export function intlClient(service: Services, server: { port: number }, o: ClientOptions = {}): any {
  const mod = require(`tencentcloud-sdk-nodejs-intl-en/tencentcloud/${service}`);
  const ClientProfile = require('tencentcloud-sdk-nodejs-intl-en/tencentcloud/common/profile/client_profile');
  const HttpProfile = require('tencentcloud-sdk-nodejs-intl-en/tencentcloud/common/profile/http_profile');
  const Credential = require('tencentcloud-sdk-nodejs-intl-en/tencentcloud/common/credential');
  const account = o.account ?? DEFAULT_ACCOUNT;
  const hp = new HttpProfile();
  hp.endpoint = o.endpoint ?? `127.0.0.1:${server.port}`;
  hp.protocol = 'http://';
  if (o.reqMethod) hp.reqMethod = o.reqMethod;
  const profile = new ClientProfile(o.signMethod ?? 'HmacSHA256', hp);
  const Client = mod[VERSIONS[service]].Client;
  const client = new Client(new Credential(account.secretId, account.secretKey), o.region ?? '', profile);
  // This SDK answers through callbacks with model objects; give tests the
  // same promise interface as the mainland SDK.
  return new Proxy(client, {
    get(target, name) {
      const member = target[name];
      if (typeof name !== 'string' || typeof member !== 'function' || !/^[A-Z]/.test(name)) return member;
      return (req: object = {}) =>
        new Promise((resolve, reject) => member.call(target, req, (err: unknown, resp: unknown) => (err ? reject(err) : resolve(resp))));
    },
  });
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

export interface CapturedRequest {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

/**
 * Captures what an SDK sends, without answering it meaningfully: used to
 * replay real, SDK-signed requests with one part tampered.
 */
export async function captureSdkRequest(call: (port: number) => Promise<unknown>): Promise<CapturedRequest> {
  let captured: CapturedRequest | undefined;
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      captured = { method: req.method!, url: req.url!, headers: req.headers, body: Buffer.concat(chunks) };
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ Response: { RequestId: 'captured' } }));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  try {
    await call((server.address() as AddressInfo).port).catch(() => undefined);
  } finally {
    server.close();
  }
  if (!captured) throw new Error('the SDK sent nothing');
  return captured;
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
