/**
 * GAAP at scale (part of npm run bench). Two tclocal processes are filled
 * through the real API with concurrent signed requests: a small one (1,000
 * proxies) and a large one (10,000 proxies with 5 TCP listeners each, then
 * 100,000 proxies). One SDK-signed DescribeProxies page (Limit 20,
 * AccessRegion filter) is replayed against them (bench/load: wrk when installed). Servers
 * compared with each other are measured in alternating rounds and the
 * medians compared, so load from other processes on the machine hits both
 * sides alike. Also: RSS, and durable CreateProxy writes against a
 * file-backed data directory (next to the same writes in memory). The data
 * plane runs as by default: of the 50,000 listeners it binds as many as the
 * open-file limit leaves room for, and reports the rest as unbound (EMFILE).
 *
 *   node dist/bench/scale.js [--seconds 5] [--scale-small N --scale-mid N --scale-large N]
 */
import { createHash, createHmac } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { Agent, request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_ACCOUNT } from '../src/config';
import { captureSdkRequest, cnClient } from '../testkit/sdk';
import { numberOption } from './args';
import { load, replayAmount, type Replay } from './load';
import * as run from './rounds';
import { rssMb, startReference, startTclocalProcess, toReplay } from './servers';

export interface ScaleResult {
  label: string;
  value: string;
  target?: string;
}



/** Access regions the filled proxies are spread over (all accelerate to Beijing). */
const ACCESS = ['Hongkong', 'SoutheastAsia', 'Korea', 'Europe', 'NorthAmerica', 'WestIndia', 'Thailand', 'Virginia', 'Japan', 'Taipei', 'Jakarta', 'SaoPaulo'];
const DEST = 'Beijing';
const FILTER_REGION = 'Hongkong';
const FILL_CONNECTIONS = 24;
const READ_CONNECTIONS = 32;

// ---------------------------------------------------------------- signed calls

const sha256Hex = (s: string) => createHash('sha256').update(s).digest('hex');

/** TC3-HMAC-SHA256 headers for a JSON POST to GAAP, signed with the default account. */
function signedHeaders(host: string, action: string, body: string): Record<string, string> {
  const ts = Math.floor(Date.now() / 1000);
  const date = new Date(ts * 1000).toISOString().slice(0, 10);
  const contentType = 'application/json; charset=utf-8';
  const canonical = `POST\n/\n\ncontent-type:${contentType}\nhost:${host}\n\ncontent-type;host\n${sha256Hex(body)}`;
  const scope = `${date}/gaap/tc3_request`;
  const toSign = `TC3-HMAC-SHA256\n${ts}\n${scope}\n${sha256Hex(canonical)}`;
  const kDate = createHmac('sha256', 'TC3' + DEFAULT_ACCOUNT.secretKey).update(date).digest();
  const kService = createHmac('sha256', kDate).update('gaap').digest();
  const kSigning = createHmac('sha256', kService).update('tc3_request').digest();
  const signature = createHmac('sha256', kSigning).update(toSign).digest('hex');
  return {
    'content-type': contentType,
    host,
    'x-tc-action': action,
    'x-tc-version': '2018-05-29',
    'x-tc-timestamp': String(ts),
    authorization: `TC3-HMAC-SHA256 Credential=${DEFAULT_ACCOUNT.secretId}/${scope}, SignedHeaders=content-type;host, Signature=${signature}`,
  };
}

class Client {
  private readonly agent = new Agent({ keepAlive: true, maxSockets: FILL_CONNECTIONS });
  private readonly host: string;

  constructor(private readonly port: number) {
    this.host = `127.0.0.1:${port}`;
  }

  call(action: string, params: object): Promise<any> {
    const body = JSON.stringify(params);
    const headers = { ...signedHeaders(this.host, action, body), 'content-length': String(Buffer.byteLength(body)) };
    return new Promise((resolve, reject) => {
      const req = httpRequest({ host: '127.0.0.1', port: this.port, method: 'POST', path: '/', headers, agent: this.agent }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () => {
          try {
            const r = JSON.parse(Buffer.concat(chunks).toString('utf8')).Response;
            if (r.Error) reject(new Error(`${action}: ${r.Error.Code} ${r.Error.Message}`));
            else resolve(r);
          } catch (err) {
            reject(err);
          }
        });
        res.on('error', reject);
      });
      req.on('error', reject);
      req.end(body);
    });
  }

  close(): void {
    this.agent.destroy();
  }
}

/** Runs fn(i) for i in [from, to) with `concurrency` calls in flight; returns calls per second. */
async function pool(from: number, to: number, concurrency: number, fn: (i: number) => Promise<void>): Promise<number> {
  let next = from;
  const t0 = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < to) await fn(next++);
    }),
  );
  const s = Number(process.hrtime.bigint() - t0) / 1e9;
  return (to - from) / s;
}

const proxyParams = (i: number) => ({
  ProjectId: 0, ProxyName: `bench-${i}`, AccessRegion: ACCESS[i % ACCESS.length], RealServerRegion: DEST, Bandwidth: 10, Concurrent: 2,
});

// ---------------------------------------------------------------- measures

/** The read under test, signed by the official SDK. */
async function signedDescribeProxies(): Promise<Replay> {
  return toReplay(await captureSdkRequest((port) => cnClient('gaap', { port }).DescribeProxies({
    Limit: 20, Filters: [{ Name: 'AccessRegion', Values: [FILTER_REGION] }],
  })));
}

/** SDK-signed CreateProxy requests, one per access region (replayed in turn). */
async function signedCreates(): Promise<Replay[]> {
  const out: Replay[] = [];
  for (let i = 0; i < ACCESS.length; i++) out.push(toReplay(await captureSdkRequest((port) => cnClient('gaap', { port }).CreateProxy(proxyParams(i)))));
  return out;
}

async function proxyCount(client: Client): Promise<number> {
  return (await client.call('DescribeProxies', { Limit: 0 })).TotalCount as number;
}

/** Checks the page the read answers: what the filter promises, 20 rows. Returns the match count and the body bytes. */
async function checkRead(port: number, request: Replay): Promise<{ total: number; body: Buffer }> {
  const res = await fetch(`http://127.0.0.1:${port}${request.path}`, { method: 'POST', headers: request.headers, body: request.body });
  const body = Buffer.from(await res.arrayBuffer());
  const r = JSON.parse(body.toString('utf8')).Response;
  if (r.Error) throw new Error(`DescribeProxies: ${r.Error.Code} ${r.Error.Message}`);
  if (r.ProxySet.length !== Math.min(20, r.TotalCount) || r.ProxySet.some((p: any) => p.AccessRegion !== FILTER_REGION)) {
    throw new Error('DescribeProxies answered an unexpected page');
  }
  return { total: r.TotalCount, body };
}

/** Measures each server in turn, a few rounds, after a warm-up; medians per server. */
const alternate = (ports: Record<string, number>, request: Replay, seconds: number) => run.alternate(ports, request, seconds, READ_CONNECTIONS);

/** CreateProxy replayed for `seconds` against a file-backed and an in-memory tclocal, alternating. */
async function measureWrites(seconds: number, creates: Replay[], log: (s: string) => void): Promise<Record<'durable' | 'memory', { rate: number; p99: number }>> {
  const dir = mkdtempSync(join(tmpdir(), 'tclocal-bench-data-'));
  const servers = {
    durable: await startTclocalProcess(['--transition-ms', '0', '--in-memory', 'off', '--data-dir', dir]),
    memory: await startTclocalProcess(['--transition-ms', '0']),
  };
  try {
    const rates: Record<string, number[]> = { durable: [], memory: [] };
    const p99s: Record<string, number[]> = { durable: [], memory: [] };
    for (const t of Object.values(servers)) await load(t.port, creates, 1, READ_CONNECTIONS); // warm-up
    const rounds = run.ROUNDS;
    for (let i = 0; i < rounds; i++) {
      for (const [name, t] of Object.entries(servers)) {
        const client = new Client(t.port);
        const before = await proxyCount(client);
        const r = await load(t.port, creates, seconds, READ_CONNECTIONS);
        // Count what the store holds: only the calls that created a proxy count.
        const created = (await proxyCount(client)) - before;
        client.close();
        if (r.errors + r.non2xx > 0) log(`${name} CreateProxy: ${r.errors + r.non2xx} calls failed`);
        rates[name].push(created / r.seconds);
        p99s[name].push(r.p99);
      }
    }
    const out = {} as Record<'durable' | 'memory', { rate: number; p99: number }>;
    for (const name of ['durable', 'memory'] as const) {
      out[name] = { rate: run.median(rates[name]), p99: run.median(p99s[name]) };
      console.log(`  CreateProxy ${name}: ${rates[name].map((x) => x.toFixed(0)).join('/')} per s, p99 ${out[name].p99} ms`);
    }
    return out;
  } finally {
    for (const t of Object.values(servers)) t.child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
}

/** `catalogue`: the HMAC-chain server of the catalogue read, when run.ts measured it. */
export async function scaleBenchmark(catalogue: { rps: number; bytes: number } | undefined, log: (s: string) => void): Promise<ScaleResult[]> {
  const started = Date.now();
  const seconds = numberOption('--seconds', 4);
  const scales = { small: numberOption('--scale-small', 1_000), mid: numberOption('--scale-mid', 10_000), large: numberOption('--scale-large', 100_000) };
  const listenersPerProxy = 5;
  const n = (x: number) => x.toLocaleString('en-US');
  const out: ScaleResult[] = [];
  // Signatures are captured again before each phase: the server refuses ones older than 5 minutes.
  let read = await signedDescribeProxies();

  const small = await startTclocalProcess(['--transition-ms', '0']);
  const large = await startTclocalProcess(['--transition-ms', '0']);
  const smallClient = new Client(small.port);
  const client = new Client(large.port);
  const references: Array<{ stop: () => void }> = [];
  try {
    // Small: 1,000 proxies, through signed API calls.
    const smallRate = await pool(0, scales.small, FILL_CONNECTIONS, async (i) => void (await smallClient.call('CreateProxy', proxyParams(i))));
    console.log(`small: ${scales.small} proxies at ${smallRate.toFixed(0)} CreateProxy/s`);

    // Large, first 10,000 proxies (their ids are kept) and 5 listeners on each.
    const ids: string[] = [];
    const proxyRate = await pool(0, scales.mid, FILL_CONNECTIONS, async (i) => {
      ids[i] = (await client.call('CreateProxy', proxyParams(i))).InstanceId;
    });
    const listenerRate = await pool(0, scales.mid, FILL_CONNECTIONS, async (i) => {
      await client.call('CreateTCPListeners', {
        ProxyId: ids[i], ListenerName: `l${i}`, Ports: Array.from({ length: listenersPerProxy }, (_, k) => 8000 + k),
        Scheduler: 'rr', HealthCheck: 0, RealServerType: 'IP',
      });
    });
    const listeners = (await client.call('DescribeTCPListeners', { ProxyId: ids[0] })).TotalCount as number;
    if (listeners !== listenersPerProxy) throw new Error(`expected ${listenersPerProxy} listeners on ${ids[0]}, found ${listeners}`);
    console.log(`large: ${scales.mid} proxies at ${proxyRate.toFixed(0)} CreateProxy/s, ${scales.mid * listenersPerProxy} listeners at ${listenerRate.toFixed(0)} CreateTCPListeners/s`);

    const mid = await checkRead(large.port, read);
    const hmac = await startReference('hmac', mid.body);
    const bare = await startReference('bare', mid.body);
    references.push(hmac, bare);
    console.log(`DescribeProxies at ${scales.mid} proxies (${mid.total} match, ${mid.body.length} bytes) vs an HMAC-chain and a bare server answering the same bytes:`);
    const m = await alternate({ tclocal: large.port, hmacSameBytes: hmac.port, bareSameBytes: bare.port }, read, seconds);
    for (const r of references.splice(0)) r.stop();
    const rssMid = rssMb(large.child.pid!);

    // Large, up to 100,000 proxies: autocannon replays signed creations, then the store is counted.
    const before = await proxyCount(client);
    const bulk = await replayAmount(large.port, await signedCreates(), scales.large - before, FILL_CONNECTIONS);
    const filled = await proxyCount(client);
    if (filled !== scales.large) throw new Error(`expected ${scales.large} proxies, found ${filled} (${bulk.failed} calls failed)`);
    console.log(`large: filled to ${filled} proxies at ${((filled - before) / bulk.seconds).toFixed(0)} CreateProxy/s`);
    read = await signedDescribeProxies();
    const lg = await checkRead(large.port, read);
    const sm = await checkRead(small.port, read);
    console.log(`DescribeProxies at ${scales.small} (${sm.total} match) vs ${scales.large} proxies (${lg.total} match):`);
    const cmp = await alternate({ small: small.port, large: large.port }, read, seconds);
    const rssLarge = rssMb(large.child.pid!);

    // The same-bytes server does the same signature work and sends the same answer: only tclocal's own work differs.
    const vsCatalogue = catalogue
      ? `; informative: ${(m.tclocal.rps / catalogue.rps).toFixed(2)}× the HMAC-chain server of the catalogue read above, whose answer is ${n(catalogue.bytes)} bytes (${catalogue.rps.toFixed(0)} req/s)`
      : '';
    out.push({
      label: `DescribeProxies (Limit 20, AccessRegion filter, SDK-signed, ${n(mid.body.length)}-byte answer), ${n(scales.mid)} proxies with ${n(scales.mid * listenersPerProxy)} listeners, ${READ_CONNECTIONS} connections`,
      value: `${m.tclocal.rps.toFixed(0)} req/s = ${run.pairedRatio(m.tclocal, m.hmacSameBytes).toFixed(2)}× an HMAC-chain server answering these same bytes (${m.hmacSameBytes.rps.toFixed(0)} req/s, measured alternately); errors ${m.tclocal.errors}${vsCatalogue}`,
      target: '≥ 0.5× the HMAC-chain server',
    });
    out.push({
      label: `Same call, latency at ${READ_CONNECTIONS} connections, saturated (queueing included: mean ≈ connections / throughput)`,
      value: `p50 ${m.tclocal.p50} ms, p99 ${m.tclocal.p99} ms (same bytes, same rounds: HMAC-chain server p50 ${m.hmacSameBytes.p50} ms, p99 ${m.hmacSameBytes.p99} ms; bare server p50 ${m.bareSameBytes.p50} ms, p99 ${m.bareSameBytes.p99} ms)`,
      target: 'p99 ≤ 10 ms',
    });
    const paired = run.pairedRatio(cmp.small, cmp.large);
    const ratio = Math.max(paired, 1 / paired);
    out.push({
      label: `Same call at ${n(scales.small)} vs ${n(scales.large)} proxies (${sm.total} vs ${n(lg.total)} matching the filter; medians of alternating rounds)`,
      value: `${cmp.small.rps.toFixed(0)} vs ${cmp.large.rps.toFixed(0)} req/s (p99 ${cmp.small.p99} vs ${cmp.large.p99} ms): ${ratio.toFixed(2)}× apart`,
      target: 'within 1.5×',
    });
    out.push({ label: `RSS with ${n(scales.mid)} proxies and ${n(scales.mid * listenersPerProxy)} listeners (in memory, after the reads)`, value: `${rssMid.toFixed(0)} MB`, target: '≤ 300 MB' });
    out.push({ label: `RSS with ${n(scales.large)} proxies and ${n(scales.mid * listenersPerProxy)} listeners (informative)`, value: `${rssLarge.toFixed(0)} MB` });
    out.push({
      label: `Filling through the API (in memory, informative)`,
      value: `${proxyRate.toFixed(0)} CreateProxy/s and ${listenerRate.toFixed(0)} CreateTCPListeners/s (${listenersPerProxy} ports each) from ${FILL_CONNECTIONS} concurrent signed calls; ${((filled - before) / bulk.seconds).toFixed(0)} CreateProxy/s replayed by autocannon`,
    });
  } finally {
    for (const r of references) r.stop();
    smallClient.close();
    client.close();
    small.child.kill('SIGKILL');
    large.child.kill('SIGKILL');
  }

  console.log('CreateProxy, file-backed vs in memory:');
  const w = await measureWrites(seconds, await signedCreates(), log);
  out.push({
    label: `CreateProxy durable writes (file-backed data dir, ${READ_CONNECTIONS} connections, SDK-signed; median of ${run.ROUNDS} alternating rounds)`,
    value: `${w.durable.rate.toFixed(0)}/s (p99 ${w.durable.p99} ms); the same in memory: ${w.memory.rate.toFixed(0)}/s`,
    target: '≥ 2,000/s',
  });
  console.log(`scale benchmark: ${((Date.now() - started) / 1000).toFixed(0)} s`);
  return out;
}

if (require.main === module) {
  scaleBenchmark(undefined, console.log)
    .then((r) => {
      for (const s of r) console.log(`- ${s.label}: ${s.value}${s.target ? ` (target ${s.target})` : ''}`);
      process.exit(0);
    })
    .catch((err) => {
      console.error(err);
      process.exit(1);
    });
}
