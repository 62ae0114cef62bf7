/**
 * Load benchmark (npm run bench): replays one SDK-signed catalogue read with
 * many connections against tclocal, a bare Node server and a Node server
 * computing the TC3 HMAC chain, in one run, and writes the ratios to
 * BENCHMARKS.md. Also measures start-to-ready and idle memory.
 *
 *   npm run bench -- [--seconds 4] [--rounds 7] [--connections 64] [--no-write] [--no-scale]
 */
import { writeFileSync } from 'node:fs';
import { BENCHMARKS_FILE, DATAPLANE_HEADING, DNS_HEADING, readSection, RELIABILITY_HEADING } from './report';
import { cpus } from 'node:os';
import { captureSdkRequest, cnClient } from '../test/helpers';
import { load, loadGenerator, type LoadResult, type Replay } from './load';
import { scaleBenchmark, type ScaleResult } from './scale';
import { rssMb, startReference, startTclocalProcess, toReplay } from './servers';

const args = process.argv.slice(2);
const opt = (name: string, dflt: number) => {
  const i = args.indexOf(name);
  return i >= 0 ? Number(args[i + 1]) : dflt;
};
const SECONDS = opt('--seconds', 4);
/** Alternating rounds per comparison. */
export const ROUNDS = opt('--rounds', 7);
const CONNECTIONS = opt('--connections', 64);

export const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

export interface Series extends LoadResult {
  /** Requests per second of each round. */
  rounds: string;
  /** Requests per second of each round, in order. */
  perRound: number[];
}

/**
 * How `a` compares with `b`: the median of the ratios of rounds run one
 * after the other. The machine's speed drifts between rounds (other tenants,
 * frequency); adjacent rounds share most of it, so their ratio cancels it.
 */
export const pairedRatio = (a: Series, b: Series): number => median(a.perRound.map((x, i) => x / b.perRound[i]));

/**
 * Measures each server in turn, `rounds` times, after a warm-up, and keeps
 * the medians: load from elsewhere on the machine falls on every side alike.
 */
export async function alternate(ports: Record<string, number>, request: Replay, seconds: number, connections: number, rounds = ROUNDS): Promise<Record<string, Series>> {
  for (const port of Object.values(ports)) await load(port, [request], Math.min(2, seconds), connections);
  const all: Record<string, LoadResult[]> = {};
  for (let i = 0; i < rounds; i++) {
    for (const [name, port] of Object.entries(ports)) (all[name] ??= []).push(await load(port, [request], seconds, connections));
  }
  const out: Record<string, Series> = {};
  for (const [name, rs] of Object.entries(all)) {
    out[name] = {
      rps: median(rs.map((r) => r.rps)),
      p50: median(rs.map((r) => r.p50)),
      p99: median(rs.map((r) => r.p99)),
      errors: rs.reduce((n, r) => n + r.errors, 0),
      non2xx: rs.reduce((n, r) => n + r.non2xx, 0),
      seconds: rs.reduce((n, r) => n + r.seconds, 0),
      rounds: rs.map((r) => r.rps.toFixed(0)).join('/'),
      perRound: rs.map((r) => r.rps),
    };
    console.log(`  ${name}: ${out[name].rps.toFixed(0)} req/s (rounds ${out[name].rounds}), p50 ${out[name].p50} ms, p99 ${out[name].p99} ms`);
  }
  return out;
}

async function signedCatalogueRead(): Promise<Replay> {
  return toReplay(await captureSdkRequest((port) => cnClient('gaap', { port }).DescribeAccessRegions({})));
}

async function main() {
  const lines: string[] = [];
  const log = (s: string) => {
    console.log(s);
    lines.push(s);
  };
  const request = await signedCatalogueRead();

  // Start-up and idle memory: median of 5 cold starts.
  const starts: number[] = [];
  let idleRss = 0;
  for (let i = 0; i < 5; i++) {
    const t = await startTclocalProcess();
    starts.push(t.readyMs);
    await new Promise((r) => setTimeout(r, 300));
    idleRss = Math.max(idleRss, rssMb(t.child.pid!));
    t.child.kill('SIGKILL');
  }
  starts.sort((a, b) => a - b);

  // The baselines answer the very bytes tclocal answers.
  let body: Buffer;
  {
    const t = await startTclocalProcess();
    const res = await fetch(`http://127.0.0.1:${t.port}${request.path}`, { method: request.method, headers: request.headers, body: request.body });
    body = Buffer.from(await res.arrayBuffer());
    t.child.kill('SIGKILL');
  }

  const tclocal = await startTclocalProcess();
  const servers = { bare: await startReference('bare', body), hmac: await startReference('hmac', body), tclocal: { port: tclocal.port, stop: () => tclocal.child.kill('SIGKILL') } };
  const results = await alternate(Object.fromEntries(Object.entries(servers).map(([k, v]) => [k, v.port])), request, SECONDS, CONNECTIONS);
  for (const s of Object.values(servers)) s.stop();

  let scale: ScaleResult[] = [];
  if (!args.includes('--no-scale')) scale = await scaleBenchmark({ rps: results.hmac.rps, bytes: body.length }, log);

  const t = results.tclocal;
  const report = [
    '# Benchmarks',
    '',
    'Measured by `npm run bench` (bench/run.ts); numbers vary with the machine, the ratios are what to compare.',
    `Last run: ${new Date().toISOString().slice(0, 10)}, ${cpus().length} cores (${cpus()[0]?.model ?? 'unknown'}), Node ${process.version};`,
    `${CONNECTIONS} connections, ${ROUNDS} alternating rounds of ${SECONDS} s per server (medians; ratios are medians of the ratios of adjacent rounds), load generator ${loadGenerator} on the same machine (one thread);`,
    'tclocal runs with its defaults (one log line per request, to /dev/null here) except rate limits, which are off.',
    '',
    '## Signed catalogue read (DescribeAccessRegions, TC3-HMAC-SHA256, one SDK-signed request replayed)',
    '',
    'The two reference servers answer the same bytes as tclocal (its response to this request), so the columns differ only in the work done.',
    '',
    '| Server | req/s | p50 ms | p99 ms | vs bare | vs HMAC chain |',
    '|---|---|---|---|---|---|',
    ...(['bare', 'hmac', 'tclocal'] as const).map((n) => {
      const r = results[n];
      return `| ${n === 'bare' ? 'bare Node server, fixed JSON' : n === 'hmac' ? 'Node server computing the TC3 HMAC chain' : 'tclocal'} | ${r.rps.toFixed(0)} | ${r.p50} | ${r.p99} | ${pairedRatio(r, results.bare).toFixed(2)}× | ${pairedRatio(r, results.hmac).toFixed(2)}× |`;
    }),
    '',
    `Target: tclocal ≥ 0.5× the HMAC-chain server — **${pairedRatio(t, results.hmac).toFixed(2)}×** (${pairedRatio(t, results.hmac) >= 0.5 ? 'met' : 'NOT met'}). Errors/non-2xx during the tclocal run: ${t.errors}/${t.non2xx}.`,
    '',
    '## Start-up and memory',
    '',
    '| Measure | Value | Target |',
    '|---|---|---|',
    `| start to ready (process spawn → /_tclocal/health 200), median of 5 | ${starts[2]} ms | ≤ 500 ms |`,
    `| idle RSS after start | ${idleRss.toFixed(1)} MB | ≤ 80 MB |`,
    '',
    ...(scale.length ? ['## GAAP at scale', '', ...scaleReport(scale), '', SATURATION_NOTE, ''] : []),
  ];
  // The reliability, data-plane and DNS sections are written by `npm run soak`, `npm run bench:dataplane` and `npm run bench:dns`; keep them.
  for (const heading of [RELIABILITY_HEADING, DATAPLANE_HEADING, DNS_HEADING]) {
    const section = readSection(heading);
    if (section) report.push(section);
  }
  if (!args.includes('--no-write')) writeFileSync(BENCHMARKS_FILE, report.join('\n'));
  console.log(report.join('\n'));
  process.exit(0);
}

const SATURATION_NOTE =
  'Latencies are measured at saturation: every connection sends its next request as soon as the answer arrives, ' +
  'so a request mostly waits behind the other connections\' requests. The bare server answering the same bytes ' +
  'shows the p99 this machine allows a Node server under that load; p99 can be read only beside it.';

function scaleReport(scale: ScaleResult[]): string[] {
  return scale.map((s) => `- ${s.label}: ${s.value}${s.target ? ` (target ${s.target})` : ''}`);
}

if (require.main === module) {
  main().catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
