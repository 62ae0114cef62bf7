/**
 * This build against another one, in the same run (npm run bench:compare):
 * a change that promises "no slower" is shown by measuring both builds in
 * alternating rounds on the same machine, not by comparing with a figure
 * recorded on another day.
 *
 *   npm run bench:compare -- --against <checkout with a built dist/> [--seconds 4] [--rounds 7] [--connections 64]
 *
 * Measures the signed catalogue read of `npm run bench` (requests/s and CPU
 * per request, in memory) and durable CreateProxy writes (created proxies/s
 * and CPU per write, file-backed data directories).
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { captureSdkRequest, cnClient } from '../testkit/sdk';
import { numberOption, option } from './args';
import { load, type Replay } from './load';
import { alternate, cpuPerRequest, median, pairedRatio, ROUNDS } from './rounds';
import { cpuSeconds, startTclocalProcess, toReplay } from './servers';

const SECONDS = numberOption('--seconds', 4);
const CONNECTIONS = numberOption('--connections', 64);
const WRITE_CONNECTIONS = 32;
const REGIONS = ['Hongkong', 'SoutheastAsia', 'Korea', 'Europe', 'NorthAmerica', 'Japan'];

const capture = async (call: (port: number) => Promise<unknown>): Promise<Replay> => toReplay(await captureSdkRequest(call));

async function proxyCount(port: number): Promise<number> {
  const r = await capture((p) => cnClient('gaap', { port: p }).DescribeProxies({ Limit: 1 }));
  const res = await fetch(`http://127.0.0.1:${port}${r.path}`, { method: r.method, headers: r.headers, body: r.body });
  return ((await res.json()) as { Response: { TotalCount: number } }).Response.TotalCount;
}

async function main(): Promise<void> {
  const against = option('--against', '');
  const otherCli = resolve(against, 'dist/src/cli.js');
  if (!against || !existsSync(otherCli)) throw new Error('--against must name a checkout whose dist/src/cli.js is built (npm run build there)');

  const read = await capture((port) => cnClient('gaap', { port }).DescribeAccessRegions({}));
  console.log(`Signed catalogue read, in memory, ${CONNECTIONS} connections, ${ROUNDS} rounds of ${SECONDS} s:`);
  const readers = { this: await startTclocalProcess(), other: await startTclocalProcess([], otherCli) };
  let readRatio: number;
  let readCpu: Record<string, number>;
  try {
    const series = await alternate({ this: readers.this.port, other: readers.other.port }, read, SECONDS, CONNECTIONS);
    readRatio = pairedRatio(series.this, series.other);
    readCpu = await cpuPerRequest({ this: { port: readers.this.port, pid: readers.this.child.pid! }, other: { port: readers.other.port, pid: readers.other.child.pid! } }, read, SECONDS, CONNECTIONS);
  } finally {
    for (const t of Object.values(readers)) t.child.kill('SIGKILL');
  }

  console.log(`Durable CreateProxy, ${WRITE_CONNECTIONS} connections, ${ROUNDS} rounds of ${SECONDS} s:`);
  const creates: Replay[] = [];
  for (const [i, region] of REGIONS.entries()) {
    creates.push(await capture((port) => cnClient('gaap', { port }).CreateProxy({
      ProjectId: 0, ProxyName: `compare-${i}`, AccessRegion: region, RealServerRegion: 'Beijing', Bandwidth: 10, Concurrent: 2,
    })));
  }
  const dirs = { this: mkdtempSync(join(tmpdir(), 'tclocal-compare-')), other: mkdtempSync(join(tmpdir(), 'tclocal-compare-')) };
  const durable = (dir: string) => ['--transition-ms', '0', '--in-memory', 'off', '--data-dir', dir];
  const writers = { this: await startTclocalProcess(durable(dirs.this)), other: await startTclocalProcess(durable(dirs.other), otherCli) };
  const rates: Record<string, number[]> = { this: [], other: [] };
  const cpu: Record<string, number[]> = { this: [], other: [] };
  try {
    for (const t of Object.values(writers)) await load(t.port, creates, 1, WRITE_CONNECTIONS);
    for (let round = 0; round < ROUNDS; round++) {
      const order = round % 2 ? (['other', 'this'] as const) : (['this', 'other'] as const);
      for (const name of order) {
        const t = writers[name];
        const before = await proxyCount(t.port);
        const cpuBefore = cpuSeconds(t.child.pid!);
        const r = await load(t.port, creates, SECONDS, WRITE_CONNECTIONS);
        const created = (await proxyCount(t.port)) - before;
        if (r.errors > 0 || created === 0) throw new Error(`${name}: ${r.errors} failed calls, ${created} proxies created`);
        rates[name].push(created / r.seconds);
        cpu[name].push(((cpuSeconds(t.child.pid!) - cpuBefore) / created) * 1e6);
      }
    }
  } finally {
    for (const t of Object.values(writers)) t.child.kill('SIGKILL');
    for (const d of Object.values(dirs)) rmSync(d, { recursive: true, force: true });
  }
  for (const name of ['this', 'other'] as const) {
    console.log(`  ${name}: ${median(rates[name]).toFixed(0)} CreateProxy/s (rounds ${rates[name].map((x) => x.toFixed(0)).join('/')}), ${median(cpu[name]).toFixed(0)} µs CPU per write`);
  }
  const writeRatio = median(rates.this.map((x, i) => x / rates.other[i]));

  console.log('\nthis build / the other, median of paired rounds:');
  console.log(`  signed read: ${readRatio.toFixed(2)}× requests/s, CPU per request ${(readCpu.this / readCpu.other).toFixed(2)}×`);
  console.log(`  durable CreateProxy: ${writeRatio.toFixed(2)}× writes/s, CPU per write ${(median(cpu.this) / median(cpu.other)).toFixed(2)}×`);
}

main().then(() => process.exit(0), (err) => {
  console.error(err);
  process.exit(1);
});
