/**
 * Thousands of malformed requests: every answer must be a well-formed error
 * envelope (HTTP 200, application/json, Error.Code/Message, RequestId), none
 * an InternalError, and the server must go on serving. Inputs come from a
 * seeded generator, so a failure can be replayed.
 */
import assert from 'node:assert/strict';
import { Agent, request } from 'node:http';
import { after, before, describe, it } from 'node:test';
import type { RunningServer } from '../../src/server';
import { specs } from '../../src/spec';
import { cnClient, startTclocal } from '../helpers';
import { prng, type Rand } from '../../testkit/prng';

function randomValue(r: Rand, depth = 0): unknown {
  switch (r.int(depth > 3 ? 6 : 9)) {
    case 0: return r.int(2) ? r.int(1e9) : -r.next() * 1e6;
    case 1: return 'x'.repeat(r.int(3000));
    case 2: return r.pick([true, false, null, '', '1e999', 'NaN', '-0', '١٢', '\u0000', '\ud800']);
    case 3: return Number.MAX_SAFE_INTEGER * 1000;
    case 4: return r.pick(['Hongkong', 'link-00000000', '2024-01-01 00:00:00', '{"a":1}', '<xml/>']);
    case 5: return {};
    case 6: return Array.from({ length: r.int(4) }, () => randomValue(r, depth + 1));
    case 7: return Object.fromEntries(Array.from({ length: r.int(4) }, (_, i) => [r.pick(['Name', 'Values', 'Key', `F${i}`, '__proto__', 'constructor']), randomValue(r, depth + 1)]));
    default: return deep(r.int(2000) + 50);
  }
}

const deep = (n: number): unknown => JSON.parse('['.repeat(n) + ']'.repeat(n));

const gaap = specs.find((s) => s.service === 'gaap')!;
const actions = Object.values(gaap.actions);

function jsonCase(r: Rand): { headers: Record<string, string>; body: string } {
  const action = r.pick(actions);
  const params: Record<string, unknown> = {};
  const fields = Object.keys(action.input);
  for (let i = r.int(5); i >= 0; i--) {
    const name = fields.length && r.int(4) ? r.pick(fields) : r.pick(['Bogus', 'Filters', '__proto__', 'Limit', '']);
    params[name] = randomValue(r);
  }
  let body = JSON.stringify(params);
  const mangle = r.int(10);
  if (mangle === 0) body = body.slice(0, r.int(body.length));
  if (mangle === 1) body = r.pick(['[]', 'null', '1', '"str"', 'true', '{', '}{', '\u0000', '{"a":}']);
  if (mangle === 2) body = '{"Deep":' + '['.repeat(50_000) + ']'.repeat(50_000) + '}';
  return {
    headers: { 'content-type': r.pick(['application/json', 'application/json; charset=utf-8', 'application/JSON']), 'x-tc-action': action.name, 'x-tc-version': '2018-05-29' },
    body,
  };
}

/** encodeURIComponent refuses lone surrogates; send those as broken escapes instead. */
const enc = (s: string) => {
  try {
    return encodeURIComponent(s);
  } catch {
    return '%ED%A0%80';
  }
};

function formCase(r: Rand): { headers: Record<string, string>; body: string } {
  const action = r.pick(actions);
  const keys = [
    ...Object.keys(action.input),
    'Filters.0.Name', 'Filters.0.Values.0', 'Filters.x.Name', 'Filters.0', 'Filters', 'A..B', '.', '..', 'A.', '.A',
    'ProxyIds.99999', 'ProxyIds.0.1.2.3.4.5.6.7.8.9.10.11.12.13.14.15.16.17', 'TagSet.0.TagKey', 'TagSet.0', '__proto__.polluted', 'constructor.prototype.x',
  ];
  const pairs = [`Action=${action.name}`, 'Version=2018-05-29'];
  for (let i = r.int(8); i >= 0; i--) {
    pairs.push(`${enc(r.pick(keys))}=${enc(String(randomValue(r, 4)).slice(0, 200))}`);
  }
  if (r.int(5) === 0) pairs.push('%E0%A4%A=%ZZ&&&==&');
  if (r.int(6) === 0) pairs.push(`Signature=${r.pick(['', 'abc', '%%%'])}`, `SecretId=${r.pick(['', 'AKIDx'])}`, `Timestamp=${r.pick(['', 'x', String(Math.floor(Date.now() / 1000))])}`);
  return { headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: pairs.join('&') };
}

function authCase(r: Rand): { headers: Record<string, string>; body: string } {
  const ts = r.pick([String(Math.floor(Date.now() / 1000)), '0', '-1', 'abc', '99999999999', '']);
  return {
    headers: {
      'content-type': 'application/json',
      'x-tc-action': 'DescribeAccessRegions',
      'x-tc-version': '2018-05-29',
      'x-tc-timestamp': ts,
      authorization: r.pick([
        'TC3-HMAC-SHA256 Credential=AKIDTCLOCAL000000000000000000000000/2020-01-01/gaap/tc3_request, SignedHeaders=content-type;host, Signature=' + '0'.repeat(64),
        'TC3-HMAC-SHA256 Credential=AKIDTCLOCAL000000000000000000000000/' + new Date().toISOString().slice(0, 10) + '/gaap/tc3_request, SignedHeaders=content-type;host, Signature=' + 'a'.repeat(64),
        'TC3-HMAC-SHA256 Credential=/, SignedHeaders=, Signature=',
        'TC3-HMAC-SHA256 Credential=AKIDTCLOCAL000000000000000000000000/2020-01-01/gaap/tc3_request, SignedHeaders=x-tc-action, Signature=' + 'b'.repeat(64),
        'TC3-HMAC-SHA256',
        'Bearer x',
        '\u00ff\u00fe',
      ]),
    },
    body: '{}',
  };
}

function miscCase(r: Rand): { method: string; path: string; headers: Record<string, string>; body: string } {
  return {
    method: r.pick(['PUT', 'DELETE', 'PATCH', 'OPTIONS', 'GET', 'POST']),
    path: r.pick(['/', '/?Action=DescribeProxies&Version=2018-05-29&Limit=abc', '/?Action=&Version=', '/?a=%ZZ', '/deep/path', '/?' + 'ProxyIds.0=x&'.repeat(3000)]),
    headers: { 'content-type': r.pick(['text/plain', 'multipart/form-data; boundary=x', '', 'application/octet-stream', 'application/json']), host: r.pick(['gaap.tencentcloudapi.com', 'cvm.tencentcloudapi.com', 'x.intl.tencentcloudapi.com', '127.0.0.1', '']) },
    body: r.pick(['', 'garbage', '--x\r\n\r\n--x--', '{}']),
  };
}

describe('fuzzing the gateway', () => {
  let server: RunningServer;
  const agent = new Agent({ keepAlive: true, maxSockets: 16 });
  before(async () => {
    server = await startTclocal({ rateLimits: false });
  });
  after(async () => {
    agent.destroy();
    await server.stop();
  });

  function send(method: string, path: string, headers: Record<string, string>, body: string): Promise<{ status: number; type: string; text: string }> {
    return new Promise((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port: server.port, method, path, agent, headers: { host: 'gaap.tencentcloudapi.com', ...headers, 'content-length': String(Buffer.byteLength(body)) } }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode!, type: String(res.headers['content-type']), text: Buffer.concat(chunks).toString() }));
      });
      req.on('error', reject);
      req.end(body);
    });
  }

  it('answers 3000 malformed requests with well-formed error envelopes and keeps serving', async () => {
    const r = prng(20261128);
    const problems: string[] = [];
    const codes = new Map<string, number>();
    const total = 3000;
    let done = 0;
    const worker = async () => {
      while (done < total) {
        const n = done++;
        const kind = n % 4;
        const c = kind === 0 ? { method: 'POST', path: '/', ...jsonCase(r) } : kind === 1 ? { method: 'POST', path: '/', ...formCase(r) } : kind === 2 ? { method: 'POST', path: '/', ...authCase(r) } : miscCase(r);
        const res = await send(c.method, c.path, c.headers, c.body);
        let env: any;
        try {
          env = JSON.parse(res.text);
        } catch {
          problems.push(`#${n} not JSON (HTTP ${res.status}) for ${c.method} ${c.path.slice(0, 60)} ${JSON.stringify(c.headers)}: ${res.text.slice(0, 100)}`);
          continue;
        }
        const resp = env?.Response;
        if (res.status !== 200 || res.type !== 'application/json') problems.push(`#${n} HTTP ${res.status} ${res.type}`);
        if (typeof resp?.RequestId !== 'string') problems.push(`#${n} no RequestId`);
        if (resp?.Error) {
          if (typeof resp.Error.Code !== 'string' || typeof resp.Error.Message !== 'string') problems.push(`#${n} malformed Error`);
          if (resp.Error.Code === 'InternalError') problems.push(`#${n} InternalError for ${c.method} ${c.path.slice(0, 60)} ${JSON.stringify(c.headers)} ${c.body.slice(0, 200)}`);
          codes.set(resp.Error.Code, (codes.get(resp.Error.Code) ?? 0) + 1);
        }
      }
    };
    await Promise.all(Array.from({ length: 8 }, worker));
    assert.deepEqual(problems.slice(0, 10), []);
    // The generator reached the interesting paths.
    for (const code of ['InvalidParameter', 'UnknownParameter', 'AuthFailure.InvalidAuthorization', 'UnsupportedProtocol', 'MissingParameter']) {
      assert.ok((codes.get(code) ?? 0) > 0, `no ${code} among ${JSON.stringify([...codes])}`);
    }
    const health = await fetch(`${server.url}/_tclocal/health`);
    assert.equal(health.status, 200);
    const ok = await cnClient('gaap', server).DescribeAccessRegions({});
    assert.ok(ok.TotalCount > 0);
  });

  it('answers bytes that are not HTTP with an envelope too', async () => {
    const { connect } = await import('node:net');
    const text = await new Promise<string>((resolve, reject) => {
      const socket = connect(server.port, '127.0.0.1', () => socket.write('GARBAGE \x00\x01\r\n\r\n'));
      let out = '';
      socket.on('data', (d) => (out += d));
      socket.on('end', () => resolve(out));
      socket.on('error', reject);
    });
    assert.match(text, /^HTTP\/1\.1 400/);
    const body = JSON.parse(text.slice(text.indexOf('\r\n\r\n') + 4));
    assert.equal(body.Response.Error.Code, 'UnsupportedProtocol');
  });

  it('survives oversized bodies', async () => {
    const huge = 'x'.repeat(11 * 1024 * 1024);
    const res = await send('POST', '/', { 'content-type': 'application/json', 'x-tc-action': 'DescribeProxies', 'x-tc-version': '2018-05-29' }, huge);
    assert.equal(JSON.parse(res.text).Response.Error.Code, 'RequestSizeLimitExceeded');
    const ok = await cnClient('gaap', server).DescribeAccessRegions({});
    assert.ok(ok.TotalCount > 0);
  });
});
