/**
 * Load benchmark (npm run bench): replays one SDK-signed catalogue read with
 * many connections against tclocal, a bare Node server and a Node server
 * computing the TC3 HMAC chain, in one run, and writes the ratios to
 * BENCHMARKS.md. Also measures start-to-ready and idle memory.
 *
 *   npm run bench -- [--seconds 4] [--rounds 7] [--connections 64] [--no-write] [--no-scale] [--no-series]
 */
import { writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { OPTIONS } from '../src/config';
import { captureSdkRequest, cnClient } from '../testkit/sdk';
import { flag, numberOption } from './args';
import { load, loadGenerator, type LoadResult, type Replay } from './load';
import { BENCHMARKS_FILE, COMPARE_HEADING, CONSOLE_HEADING, DATAPLANE_HEADING, DATAPLANE_NOTES_HEADING, DNS_HEADING, readSection, RELIABILITY_HEADING, REQUEST_LOG_HEADING } from './report';
import { alternate, cpuPerRequest, pairedRatio, ROUNDS } from './rounds';
import { scaleBenchmark, type ScaleResult } from './scale';
import { cpuSeconds, rssMb, startReference, startTclocalProcess, toReplay } from './servers';
import { seriesReport, seriesWriteBenchmark } from './series';
import { startupBenchmark, type StartupResult } from './startup';

const SECONDS = numberOption('--seconds', 4);
const CONNECTIONS = numberOption('--connections', 64);

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

  // Start-up against a bare Node server started the same way, then idle memory.
  const startup = await startupBenchmark(ROUNDS);
  console.log(`start to ready: ${JSON.stringify(startup)}`);
  let idleRss = 0;
  for (let i = 0; i < 3; i++) {
    const t = await startTclocalProcess();
    await new Promise((r) => setTimeout(r, 300));
    idleRss = Math.max(idleRss, rssMb(t.child.pid!));
    t.child.kill('SIGKILL');
  }

  // The baselines answer the very bytes tclocal answers.
  let body: Buffer;
  {
    const t = await startTclocalProcess();
    const res = await fetch(`http://127.0.0.1:${t.port}${request.path}`, { method: request.method, headers: request.headers, body: request.body });
    body = Buffer.from(await res.arrayBuffer());
    t.child.kill('SIGKILL');
  }

  const tclocal = await startTclocalProcess();
  // The same server without the request log, to show what recording every call costs.
  const noLog = await startTclocalProcess(['--request-log', '0']);
  const servers = {
    bare: await startReference('bare', body), hmac: await startReference('hmac', body),
    tclocal: { port: tclocal.port, stop: () => tclocal.child.kill('SIGKILL') },
    tclocalNoLog: { port: noLog.port, stop: () => noLog.child.kill('SIGKILL') },
  };
  const results = await alternate(Object.fromEntries(Object.entries(servers).map(([k, v]) => [k, v.port])), request, SECONDS, CONNECTIONS);
  console.log('request log, CPU per request:');
  const cpu = await cpuPerRequest({ tclocal: { port: tclocal.port, pid: tclocal.child.pid! }, tclocalNoLog: { port: noLog.port, pid: noLog.child.pid! } }, request, SECONDS, CONNECTIONS, 9);
  const logCost = cpu.tclocal / cpu.tclocalNoLog - 1;
  for (const s of Object.values(servers)) s.stop();

  const series = flag('--no-series') ? undefined : await seriesWriteBenchmark(ROUNDS);

  let scale: ScaleResult[] = [];
  if (!flag('--no-scale')) scale = await scaleBenchmark({ rps: results.hmac.rps, bytes: body.length }, log);

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
    ...(['bare', 'hmac', 'tclocal', 'tclocalNoLog'] as const).map((n) => {
      const r = results[n];
      return `| ${SERVER_NAMES[n]} | ${r.rps.toFixed(0)} | ${r.p50} | ${r.p99} | ${pairedRatio(r, results.bare).toFixed(2)}× | ${pairedRatio(r, results.hmac).toFixed(2)}× |`;
    }),
    '',
    `Target: tclocal ≥ 0.5× the HMAC-chain server — **${pairedRatio(t, results.hmac).toFixed(2)}×** (${pairedRatio(t, results.hmac) >= 0.5 ? 'met' : 'NOT met'}). Errors/non-2xx during the tclocal run: ${t.errors}/${t.non2xx}.`,
    '',
    `Request log (default, the last ${DEFAULT_REQUEST_LOG} calls) vs none (\`--request-log 0\`): CPU per request ${cpu.tclocal.toFixed(1)} vs ${cpu.tclocalNoLog.toFixed(1)} µs, ` +
      `**${(logCost * 100).toFixed(1)}%** more (target ≤ 5%: ${logCost <= 0.05 ? 'met' : 'NOT met'}; medians of 9 rounds in alternating order, CPU time read from /proc); ` +
      `throughput in the rounds above ${pairedRatio(t, results.tclocalNoLog).toFixed(2)}× (informative: throughput on a shared machine moves with the neighbours).`,
    '',
    '## Start-up and memory',
    '',
    '| Measure | Value | Target |',
    '|---|---|---|',
    ...startupRows(startup),
    `| idle RSS after start | ${idleRss.toFixed(1)} MB | ≤ 80 MB |`,
    '',
    ...(series ? [...seriesReport(series), ''] : []),
    ...(scale.length ? ['## GAAP at scale', '', ...scaleReport(scale), '', SATURATION_NOTE, ''] : []),
  ];
  // The comparison and data-plane notes are written by hand; the request-log, reliability, data-plane, DNS and console sections by `npm run bench:request-log`, `npm run soak`, `npm run bench:dataplane`, `npm run bench:dns` and `npm run bench:console`; keep them.
  for (const heading of [COMPARE_HEADING, REQUEST_LOG_HEADING, RELIABILITY_HEADING, DATAPLANE_HEADING, DATAPLANE_NOTES_HEADING, DNS_HEADING, CONSOLE_HEADING]) {
    const section = readSection(heading);
    if (section) report.push(section);
  }
  if (!flag('--no-write')) writeFileSync(BENCHMARKS_FILE, report.join('\n'));
  console.log(report.join('\n'));
  process.exit(0);
}

const DEFAULT_REQUEST_LOG = OPTIONS.find((o) => o.key === 'requestLog')!.default;

const SERVER_NAMES = {
  bare: 'bare Node server, fixed JSON',
  hmac: 'Node server computing the TC3 HMAC chain',
  tclocal: 'tclocal',
  tclocalNoLog: 'tclocal without the request log',
} as const;

const SATURATION_NOTE =
  'Latencies are measured at saturation: every connection sends its next request as soon as the answer arrives, ' +
  'so a request mostly waits behind the other connections\' requests. The bare server answering the same bytes ' +
  'shows the p99 this machine allows a Node server under that load; p99 can be read only beside it.';

/** Start-to-ready rows: medians of alternating rounds, each beside the bare Node server's start in the same run. */
function startupRows(r: StartupResult): string[] {
  const row = (what: string, kind: 'inMemory' | 'dataDir' | 'firstStart', target: string) =>
    `| ${what} | ${r[kind].toFixed(0)} ms (${(r[kind] / r.bare).toFixed(1)}× the bare server); CPU ${r.cpu[kind].toFixed(0)} ms (${(r.cpu[kind] / r.cpu.bare).toFixed(1)}×) | ${target} |`;
  return [
    `| reference: a bare Node HTTP server, process spawn → first 200 (medians of ${r.rounds} alternating rounds) | ${r.bare.toFixed(0)} ms; CPU ${r.cpu.bare.toFixed(0)} ms | — |`,
    row('start to ready, in memory (spawn → `/_tclocal/health` 200)', 'inMemory', '≤ 500 ms'),
    row('start to ready, existing data directory (a restart)', 'dataDir', '≤ 500 ms'),
    row('first start on a new data directory (makes the local CA: a 2048-bit RSA key)', 'firstStart', '— (once per directory)'),
  ];
}

function scaleReport(scale: ScaleResult[]): string[] {
  return scale.map((s) => `- ${s.label}: ${s.value}${s.target ? ` (target ${s.target})` : ''}`);
}

if (require.main === module) {
  main().catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
