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
 *   npm run bench:request-log -- [--rounds 15] [--seconds 3] [--connections 64] [--log N]
 */
import { OPTIONS } from '../src/config';
import { captureSdkRequest, cnClient } from '../test/helpers';
import { load } from './load';
import { cpuSeconds, startTclocalProcess, toReplay } from './servers';

const args = process.argv.slice(2);
const opt = (name: string, dflt: number) => {
  const i = args.indexOf(name);
  return i >= 0 ? Number(args[i + 1]) : dflt;
};
const ROUNDS = opt('--rounds', 15);
const SECONDS = opt('--seconds', 3);
const CONNECTIONS = opt('--connections', 64);
const LOG = opt('--log', Number(OPTIONS.find((o) => o.key === 'requestLog')!.default));

const sorted = (xs: number[]) => [...xs].sort((a, b) => a - b);
const quantile = (xs: number[], q: number) => sorted(xs)[Math.min(xs.length - 1, Math.floor(q * xs.length))];
const pct = (r: number) => `${r >= 1 ? '+' : ''}${((r - 1) * 100).toFixed(1)}%`;

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
    console.log('');
    console.log(`| Comparison (CPU per request, ${ROUNDS} rounds of ${SECONDS} s, ${CONNECTIONS} connections) | Median | Middle half of the rounds | All rounds |`);
    console.log('|---|---|---|---|');
    console.log(`| log of ${LOG} vs no log: ${med(cpu.log).toFixed(1)} / ${med(cpu.noLog).toFixed(1)} µs | **${pct(med(ratios))}** | ${pct(quantile(ratios, 0.25))} … ${pct(quantile(ratios, 0.75))} | ${pct(quantile(ratios, 0))} … ${pct(quantile(ratios, 1))} |`);
    console.log(`| A/A control, no log vs no log: ${med(cpu.control).toFixed(1)} / ${med(cpu.noLog).toFixed(1)} µs | ${pct(med(control))} | ${pct(quantile(control, 0.25))} … ${pct(quantile(control, 0.75))} | ${pct(quantile(control, 0))} … ${pct(quantile(control, 1))} |`);
    console.log(`throughput, medians: log ${med(rps.log).toFixed(0)}/s, no log ${med(rps.noLog).toFixed(0)}/s, control ${med(rps.control).toFixed(0)}/s`);
  } finally {
    for (const s of Object.values(servers)) s.child.kill('SIGKILL');
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
