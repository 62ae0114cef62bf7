/**
 * Generated requests across every action of every API 3.0 product (JSON,
 * form and GET) and every route of the COS-style XML protocol, from a
 * seeded generator (a failure can be replayed): values of the right type,
 * of the wrong type, hostile ones, and mangled bodies. Every answer must be
 * a well-formed envelope of its protocol and none an InternalError; the
 * server must still be serving at the end.
 */
import { Agent, request } from 'node:http';
import { specs } from '../../src/spec';
import type { FieldSpec, ServiceSpec } from '../../src/spec/types';
import { prng, type Rand } from '../../testkit/prng';

export interface FuzzReport {
  requests: number;
  api3: number;
  xml: number;
  /** Answers that were not a well-formed envelope, or an InternalError (first few kept). */
  malformed: string[];
  malformedCount: number;
  internalErrors: number;
  /** Requests that got no answer at all (connection reset or refused). */
  noAnswer: number;
  /** Whether health answered after the run. */
  aliveAfter: boolean;
  /** Error codes seen, with counts: shows the run reached past the validator. */
  codes: Record<string, number>;
}

const STRINGS = ['', 'x', 'www.example.com', '1.1.1.1', 'Hongkong', 'Beijing', 'TCP', 'HTTP', 'HTTPS', 'rr', '/', 'ACCEPT', 'default', 'IPv4',
  'normal', 'IP', 'DOMAIN', 'asc', 'desc', 'link-00000000', 'lgroup-00000000', 'rs-00000000', 'cert-00000000', '2024-01-01 00:00:00', 'https://127.0.0.1:9/cb', '中文', 'x'.repeat(300)];
const HOSTILE: unknown[] = [true, false, null, '', '1e999', 'NaN', '-0', '١٢', '\u0000', '\ud800', 'a\nb', 1e308, -1, 2 ** 63, 0.5, {}, [], '%zz', '<x/>', '{"a":1}'];

function typedValue(r: Rand, spec: ServiceSpec, f: FieldSpec, depth: number): unknown {
  if (r.int(8) === 0) return r.pick(HOSTILE);
  if (f.array) return Array.from({ length: r.int(depth > 2 ? 2 : 4) }, () => typedValue(r, spec, { ...f, array: false }, depth + 1));
  switch (f.type) {
    case 'String':
    case 'Timestamp':
      return r.pick(STRINGS);
    case 'Integer':
      return r.pick([0, 1, 2, 10, 80, 100, 443, 3600, 65535, -5]);
    case 'Float':
      return r.pick([0, 1.5, 100]);
    case 'Boolean':
      return r.int(2) === 0;
    default: {
      if (depth > 4) return {};
      const out: Record<string, unknown> = {};
      for (const [name, sf] of Object.entries(spec.structs[f.type] ?? {})) if (sf.required || r.int(2) === 0) out[name] = typedValue(r, spec, sf, depth + 1);
      return out;
    }
  }
}

/** `Filters.0.Values.1=…` pairs of a value, as form clients flatten it. */
function flatten(prefix: string, v: unknown, out: Array<[string, string]>): void {
  if (Array.isArray(v)) v.forEach((x, i) => flatten(`${prefix}.${i}`, x, out));
  else if (v !== null && typeof v === 'object') for (const [k, x] of Object.entries(v)) flatten(`${prefix}.${k}`, x, out);
  else out.push([prefix, String(v)]);
}

const enc = (s: string) => {
  try {
    return encodeURIComponent(s);
  } catch {
    return '%ED%A0%80'; // a lone surrogate, as broken UTF-8
  }
};

interface FuzzRequest {
  protocol: 'api3' | 'xml';
  method: string;
  path: string;
  headers: Record<string, string>;
  body: Buffer;
}

const ALL_ACTIONS = specs.flatMap((spec) => Object.values(spec.actions).map((action) => ({ spec, action })));

/** Request number `i`: the API 3.0 actions in turn (every action is reached), every eighth one XML. */
export function fuzzRequest(r: Rand, i: number): FuzzRequest {
  if (i % 8 === 7) return xmlRequest(r);
  const { spec, action } = ALL_ACTIONS[i % ALL_ACTIONS.length];
  const params: Record<string, unknown> = {};
  for (const [name, f] of Object.entries(action.input)) if (f.required ? r.int(10) > 0 : r.int(3) === 0) params[name] = typedValue(r, spec, f, 0);
  if (r.int(10) === 0) params[r.pick(['Bogus', '__proto__', 'constructor', ''])] = r.pick(HOSTILE);
  const host = r.int(4) === 0 ? '127.0.0.1' : `${spec.service}.tencentcloudapi.com`;
  const form = r.int(10);
  if (form < 6) {
    let body = JSON.stringify(params);
    const mangle = r.int(14);
    if (mangle === 0) body = body.slice(0, r.int(body.length));
    if (mangle === 1) body = r.pick(['[]', 'null', '1', '"s"', '{', '}{', '{"a":}', '\u0000']);
    if (mangle === 2) body = '{"Deep":' + '['.repeat(100 + r.int(5000)) + '}';
    const headers: Record<string, string> = {
      host, 'content-type': r.pick(['application/json', 'application/json; charset=utf-8', 'application/JSON']),
      'x-tc-action': r.int(30) ? action.name : 'NoSuchAction', 'x-tc-version': r.int(30) ? spec.version : '2000-01-01',
    };
    if (mangle === 3) headers['content-type'] = r.pick(['text/plain', 'multipart/form-data', '']);
    return { protocol: 'api3', method: 'POST', path: '/', headers, body: Buffer.from(body) };
  }
  const pairs: Array<[string, string]> = [['Action', action.name], ['Version', spec.version]];
  for (const [k, v] of Object.entries(params)) flatten(k, v, pairs);
  let query = pairs.map(([k, v]) => `${enc(k)}=${enc(v)}`).join('&');
  if (r.int(12) === 0) query += r.pick(['&A.0=%zz', '&%ff=1', '&A..B=1', '&A.99999=1', '&Limit.0=1&Limit=2']);
  if (form < 8) {
    return { protocol: 'api3', method: 'POST', path: '/', headers: { host, 'content-type': 'application/x-www-form-urlencoded' }, body: Buffer.from(query) };
  }
  return { protocol: 'api3', method: 'GET', path: `/?${query}`, headers: { host }, body: Buffer.alloc(0) };
}

const XML_JUNK = ['', 'not xml', '<Request>', '<Request></Other>', '<a><b></a>', '<!DOCTYPE x [<!ENTITY e "y">]><x>&e;</x>', `<Request>${'<a>'.repeat(200)}</Request>`];

function xmlRequest(r: Rand): FuzzRequest {
  const host = `fuzz-1250000000.ci.${r.pick(['ap-beijing', 'ap-guangzhou', 'x'])}.myqcloud.com`;
  const jobId = r.int(3) === 0 ? 'av' + '0'.repeat(32) : r.pick(['x', '%zz', 'a'.repeat(300), '..']);
  const route = r.int(5);
  if (route === 0) return { protocol: 'xml', method: 'GET', path: `/video/auditing/${jobId}`, headers: { host }, body: Buffer.alloc(0) };
  if (route === 1) return { protocol: 'xml', method: 'POST', path: `/video/cancel_auditing/${jobId}`, headers: { host }, body: Buffer.alloc(0) };
  if (route === 2) return { protocol: 'xml', method: r.pick(['PUT', 'DELETE', 'GET']), path: r.pick(['/video/auditing', '/', '/other']), headers: { host }, body: Buffer.alloc(0) };
  const field = (name: string, v: string) => (r.int(6) ? `<${name}>${v}</${name}>` : '');
  const body = r.int(3) === 0
    ? r.pick(XML_JUNK)
    : `<Request>${field('Type', r.pick(['live_video', 'video', '']))}<Input>${field('Url', r.pick(['rtmp://x/live', 'ftp://x', '']))}${field('DataId', r.pick(['d1', 'x'.repeat(600), '\u0001']))}</Input><Conf>${field('BizType', r.pick(['b81d45f94b91a683255e9a9506f45a11', '']))}${field('Callback', r.pick(['http://127.0.0.1:9/cb', 'not a url', 'http://169.254.169.254/']))}${field('CallbackType', r.pick(['1', '2', '3']))}</Conf></Request>`;
  return { protocol: 'xml', method: 'POST', path: '/video/auditing', headers: { host, 'content-type': 'application/xml' }, body: Buffer.from(body) };
}

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
}

function send(agent: Agent, port: number, q: FuzzRequest): Promise<Answer | undefined> {
  return new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port, method: q.method, path: q.path, agent, headers: { ...q.headers, 'content-length': String(q.body.length) } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, text: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', () => resolve(undefined));
    });
    req.on('error', () => resolve(undefined));
    req.end(q.body);
  });
}

/** Undefined when the answer is a well-formed envelope of its protocol (not an InternalError); else what is wrong. */
function envelopeProblem(q: FuzzRequest, a: Answer, codes: Record<string, number>): string | undefined {
  if (q.protocol === 'api3') {
    if (a.status !== 200) return `HTTP ${a.status}`;
    if (!String(a.headers['content-type']).startsWith('application/json')) return `Content-Type ${a.headers['content-type']}`;
    let json: any;
    try {
      json = JSON.parse(a.text);
    } catch {
      return 'not JSON';
    }
    const resp = json?.Response;
    if (!resp || typeof resp.RequestId !== 'string' || !resp.RequestId) return 'no Response.RequestId';
    if (resp.Error !== undefined) {
      if (typeof resp.Error.Code !== 'string' || typeof resp.Error.Message !== 'string' || !resp.Error.Code || !resp.Error.Message) return 'Error without Code/Message';
      codes[resp.Error.Code] = (codes[resp.Error.Code] ?? 0) + 1;
      if (resp.Error.Code === 'InternalError') return `InternalError: ${resp.Error.Message}`;
    } else codes.success = (codes.success ?? 0) + 1;
    return undefined;
  }
  if (!String(a.headers['content-type']).startsWith('application/xml')) return `Content-Type ${a.headers['content-type']}`;
  if (!a.headers['x-ci-request-id']) return 'no x-ci-request-id';
  const error = /<Error><Code>([^<]+)<\/Code><Message>([^<]+)<\/Message><RequestId>[^<]+<\/RequestId>/.exec(a.text);
  if (a.status >= 400 || error) {
    if (!error) return `HTTP ${a.status} without an Error document`;
    codes[`xml:${error[1]}`] = (codes[`xml:${error[1]}`] ?? 0) + 1;
    if (error[1] === 'InternalError' || a.status >= 500) return `XML ${error[1]} (HTTP ${a.status})`;
    return undefined;
  }
  if (!/<Response>[\s\S]*<\/Response>/.test(a.text)) return 'success without a Response document';
  codes['xml:success'] = (codes['xml:success'] ?? 0) + 1;
  return undefined;
}

/** Sends `count` generated requests to a lenient tclocal (rate limits off) on `port`, `concurrency` at a time. */
export async function runFuzz(port: number, count: number, seed = 1, concurrency = 8): Promise<FuzzReport> {
  const agent = new Agent({ keepAlive: true, maxSockets: concurrency });
  const report: FuzzReport = { requests: 0, api3: 0, xml: 0, malformed: [], malformedCount: 0, internalErrors: 0, noAnswer: 0, aliveAfter: false, codes: {} };
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < count; i = next++) {
      // One generator per request number: request i is the same whichever worker sends it.
      const q = fuzzRequest(prng(seed * 1_000_003 + i), i);
      report.requests++;
      report[q.protocol]++;
      const a = await send(agent, port, q);
      if (!a) {
        report.noAnswer++;
        continue;
      }
      const problem = envelopeProblem(q, a, report.codes);
      if (problem) {
        report.malformedCount++;
        if (/InternalError/.test(problem)) report.internalErrors++;
        if (report.malformed.length < 10) report.malformed.push(`${q.method} ${q.headers['x-tc-action'] ?? q.path}: ${problem}`);
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, () => worker()));
  agent.destroy();
  try {
    report.aliveAfter = (await fetch(`http://127.0.0.1:${port}/_tclocal/health`)).ok;
  } catch {
    report.aliveAfter = false;
  }
  return report;
}
