/**
 * The official SDKs as clients of a running tclocal, and the capture of what
 * they send: shared by the tests and the benchmarks.
 */
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DEFAULT_ACCOUNT, type AccountConfig } from '../src/config';

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
