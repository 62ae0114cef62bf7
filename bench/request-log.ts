/**
 * What the request log costs a signed read (npm run bench:request-log): the
 * CPU time a tclocal process spends per answered DescribeAccessRegions with
 * the log (default length, or --log N) and without it (--request-log 0),
 * and an A/A control (a second server without the log) that shows how far
 * the method resolves on this machine. Servers run in turn within each
 * round, the order rotating from round to round; each round's ratio compares
 * neighbours in time, and the report gives the median and the spread of
 * those ratios.
 *
 * On a loaded machine CPU per request moves with the neighbours far more than
 * the log costs, so a second measure does not compare processes at all: the
 * server with the log runs under V8's sampling profiler, and the share of its
 * busy samples inside RequestLog.record (with everything it calls) is the
 * log's direct cost. The garbage collector's share is printed beside it, for
 * the same server without the log too.
 *
 *   npm run bench:request-log -- [--rounds 15] [--seconds 3] [--connections 64] [--log N] [--profiles 4] [--no-write]
 *
 * Writes its section of BENCHMARKS.md (the lines printed as tables).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { OPTIONS } from '../src/config';
import { captureSdkRequest, cnClient } from '../testkit/sdk';
import { flag, numberOption } from './args';
import { load, loadGenerator, type Replay } from './load';
import { cpus, loadavg } from 'node:os';
import { REQUEST_LOG_HEADING, writeSection } from './report';
import { cpuSeconds, freePort, startTclocalProcess, toReplay } from './servers';

const ROUNDS = numberOption('--rounds', 15);
const SECONDS = numberOption('--seconds', 3);
const CONNECTIONS = numberOption('--connections', 64);
const LOG = numberOption('--log', Number(OPTIONS.find((o) => o.key === 'requestLog')!.default));
const PROFILES = numberOption('--profiles', 4);

interface ProfileNode { id: number; callFrame: { functionName: string; url: string }; children?: number[] }

/** One profiled run: tclocal under load with the sampling profiler; shares of its busy samples in record() and in the collector. */
async function profiled(request: Replay, log: number): Promise<{ record: number; gc: number; rps: number }> {
  const dir = mkdtempSync(join(tmpdir(), 'tclocal-bench-prof-'));
  try {
    const port = await freePort();
    const child = spawn(process.execPath, [
      '--cpu-prof', '--cpu-prof-dir', dir, '--cpu-prof-interval', '200',
      resolve(__dirname, '../src/cli.js'), 'start', '--port', String(port), '--dns-port', '0', '--in-memory', '--rate-limits', 'off', '--request-log', String(log),
    ], { stdio: 'ignore' });
    for (;;) {
      const ok = await fetch(`http://127.0.0.1:${port}/_tclocal/health`).then((r) => r.ok, () => false);
      if (ok) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    await load(port, [request], 1, CONNECTIONS);
    const r = await load(port, [request], SECONDS * 2, CONNECTIONS);
    // SIGINT stops tclocal the ordinary way; the profile is written as the process exits.
    const exited = new Promise((res) => child.on('exit', res));
    child.kill('SIGINT');
    await exited;
    const file = readdirSync(dir).find((f) => f.endsWith('.cpuprofile'))!;
    const prof = JSON.parse(readFileSync(join(dir, file), 'utf8')) as { nodes: ProfileNode[]; samples: number[] };
    const byId = new Map(prof.nodes.map((n) => [n.id, n]));
    const parent = new Map<number, number>();
    for (const n of prof.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
    const underRecord = (id: number): boolean => {
      for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
        const f = byId.get(cur)!.callFrame;
        if (f.functionName === 'record' && f.url.endsWith('request-log.js')) return true;
      }
      return false;
    };
    let busy = 0;
    let record = 0;
    let gc = 0;
    for (const id of prof.samples) {
      const name = byId.get(id)!.callFrame.functionName;
      if (name === '(idle)') continue;
      busy++;
      if (name === '(garbage collector)') gc++;
      else if (underRecord(id)) record++;
    }
    return { record: record / busy, gc: gc / busy, rps: r.rps };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const sorted = (xs: number[]) => [...xs].sort((a, b) => a - b);
const quantile = (xs: number[], q: number) => sorted(xs)[Math.min(xs.length - 1, Math.floor(q * xs.length))];
const pct = (r: number) => `${r >= 1 ? '+' : ''}${((r - 1) * 100).toFixed(1)}%`;

/** Table lines for BENCHMARKS.md, gathered as they are printed. */
const report: string[] = [];

/** The machine's load when the run began (it is shared). */
const load0 = loadavg()[0];

async function main(): Promise<void> {
  const request = toReplay(await captureSdkRequest((port) => cnClient('gaap', { port }).DescribeAccessRegions({})));
  const servers = {
    log: await startTclocalProcess(['--request-log', String(LOG)]),
    noLog: await startTclocalProcess(['--request-log', '0']),
    control: await startTclocalProcess(['--request-log', '0']),
  };
  const names = Object.keys(servers) as Array<keyof typeof servers>;
  try {
    for (const s of Object.values(servers)) await load(s.port, [request], 2, CONNECTIONS);
    const cpu: Record<string, number[]> = { log: [], noLog: [], control: [] };
    const rps: Record<string, number[]> = { log: [], noLog: [], control: [] };
    for (let i = 0; i < ROUNDS; i++) {
      // The order rotates, so no server always follows the same one.
      const order = names.map((_, k) => names[(k + i) % names.length]);
      for (const name of order) {
        const s = servers[name];
        const before = cpuSeconds(s.child.pid!);
        const r = await load(s.port, [request], SECONDS, CONNECTIONS);
        if (r.errors > 0 || r.non2xx > 0) throw new Error(`${name}: ${r.errors} errors, ${r.non2xx} non-2xx`);
        cpu[name].push(((cpuSeconds(s.child.pid!) - before) / (r.rps * r.seconds)) * 1e6);
        rps[name].push(r.rps);
      }
      console.log(`round ${i + 1}: ${order.map((n) => `${n} ${cpu[n][i].toFixed(1)} µs (${rps[n][i].toFixed(0)}/s)`).join(', ')}`);
    }
    const ratios = cpu.log.map((x, i) => x / cpu.noLog[i]);
    const control = cpu.control.map((x, i) => x / cpu.noLog[i]);
    const med = (xs: number[]) => quantile(xs, 0.5);
    const out = (line: string) => {
      console.log(line);
      report.push(line);
    };
    out('');
    out(`| Comparison (CPU per request, ${ROUNDS} rounds of ${SECONDS} s, ${CONNECTIONS} connections) | Median | Middle half of the rounds | All rounds |`);
    out('|---|---|---|---|');
    out(`| log of ${LOG} vs no log: ${med(cpu.log).toFixed(1)} / ${med(cpu.noLog).toFixed(1)} µs | **${pct(med(ratios))}** | ${pct(quantile(ratios, 0.25))} … ${pct(quantile(ratios, 0.75))} | ${pct(quantile(ratios, 0))} … ${pct(quantile(ratios, 1))} |`);
    out(`| A/A control, no log vs no log: ${med(cpu.control).toFixed(1)} / ${med(cpu.noLog).toFixed(1)} µs | ${pct(med(control))} | ${pct(quantile(control, 0.25))} … ${pct(quantile(control, 0.75))} | ${pct(quantile(control, 0))} … ${pct(quantile(control, 1))} |`);
    out('');
    out(`Throughput, medians: log ${med(rps.log).toFixed(0)}/s, no log ${med(rps.noLog).toFixed(0)}/s, control ${med(rps.control).toFixed(0)}/s`);
  } finally {
    for (const s of Object.values(servers)) s.child.kill('SIGKILL');
  }
  if (PROFILES === 0) return;
  const shares = { record: [] as number[], gcLog: [] as number[], gcNoLog: [] as number[] };
  for (let i = 0; i < PROFILES; i++) {
    const withLog = await profiled(request, LOG);
    const without = await profiled(request, 0);
    shares.record.push(withLog.record);
    shares.gcLog.push(withLog.gc);
    shares.gcNoLog.push(without.gc);
    console.log(`profile ${i + 1}: record() ${(withLog.record * 100).toFixed(2)}% of busy samples (${withLog.rps.toFixed(0)}/s); GC ${(withLog.gc * 100).toFixed(1)}% with the log, ${(without.gc * 100).toFixed(1)}% without (${without.rps.toFixed(0)}/s)`);
  }
  const p = (xs: number[], q: number) => `${(quantile(xs, q) * 100).toFixed(2)}%`;
  const out = (line: string) => {
    console.log(line);
    report.push(line);
  };
  out('');
  out(`| Profiled (${PROFILES} runs of ${SECONDS * 2} s each way, alternating) | Median | Lowest … highest |`);
  out('|---|---|---|');
  out(`| share of the server's busy CPU samples inside RequestLog.record, log of ${LOG} | **${p(shares.record, 0.5)}** | ${p(shares.record, 0)} … ${p(shares.record, 1)} |`);
  out(`| garbage collector's share, with the log | ${p(shares.gcLog, 0.5)} | ${p(shares.gcLog, 0)} … ${p(shares.gcLog, 1)} |`);
  out(`| garbage collector's share, without the log | ${p(shares.gcNoLog, 0.5)} | ${p(shares.gcNoLog, 0)} … ${p(shares.gcNoLog, 1)} |`);
}

main().then(() => {
  const text = [
    `## ${REQUEST_LOG_HEADING}`,
    '',
    `Measured by \`npm run bench:request-log\` (bench/request-log.ts), ${new Date().toISOString().slice(0, 10)}, ${cpus().length} cores, Node ${process.version}, ` +
      `load average ${load0.toFixed(1)} at the start (the machine is shared); the signed catalogue read of the section above, replayed by \`${loadGenerator}\` with ${CONNECTIONS} connections.`,
    ...report,
    '',
  ].join('\n');
  if (!flag('--no-write')) writeSection(REQUEST_LOG_HEADING, text);
}).catch((err) => {
  console.error(err);
  process.exit(1);
});
