/**
 * What writing one statistics sample costs with 1 day and with 400 days of
 * history behind it (GAAP keeps minute points per resource and metric, and
 * documents statistics reaching back that far): two durable stores, one per
 * history length, written in alternating rounds. The store promises the same
 * cost whatever the series' length; the ratio shows it.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteStore } from '../src/store/sqlite';
import type { SeriesPoint } from '../src/store/types';
import { median } from './rounds';

const MINUTE = 60;
const DAY_MINUTES = 1440;
const KEY = 'gaap:listener/listener-bench/InBandwidth';
const ACCOUNT = 'bench';

export interface SeriesWriteResult {
  /** Days of history → µs of CPU per sample written (median of the rounds). */
  cpuUs: Record<number, number>;
  /** Paired ratio, 400 days over 1 day. */
  ratio: number;
  rounds: number;
  writesPerRound: number;
}

async function filled(days: number): Promise<{ store: SqliteStore; dir: string; next: number }> {
  const dir = mkdtempSync(join(tmpdir(), 'tclocal-bench-series-'));
  const store = new SqliteStore({ dataDir: dir, inMemory: false });
  const start = Math.floor(Date.now() / 1000 / MINUTE) * MINUTE - days * DAY_MINUTES * MINUTE;
  const total = days * DAY_MINUTES;
  for (let i = 0; i < total; i += 10_000) {
    const points: SeriesPoint[] = [];
    for (let j = i; j < Math.min(total, i + 10_000); j++) points.push({ key: KEY, t: start + j * MINUTE, value: j, merge: 'sum' as const });
    await store.transaction(ACCOUNT, (tx) => tx.seriesWrite(points));
  }
  return { store, dir, next: start + total * MINUTE };
}

/** One sample per committed transaction, as the data plane's flush writes them (one minute's point, merged). */
export async function seriesWriteBenchmark(rounds = 7, writesPerRound = 2_000): Promise<SeriesWriteResult> {
  const stores = { 1: await filled(1), 400: await filled(400) };
  const per: Record<number, number[]> = { 1: [], 400: [] };
  try {
    for (let r = 0; r < rounds; r++) {
      for (const days of r % 2 ? [400, 1] : [1, 400]) {
        const s = stores[days as 1 | 400];
        const before = process.cpuUsage();
        for (let i = 0; i < writesPerRound; i++) {
          // A new minute every 8 writes: most samples merge into the current minute, as they do in flight.
          const t = s.next + Math.floor(i / 8) * MINUTE;
          await s.store.transaction(ACCOUNT, (tx) => tx.seriesWrite([{ key: KEY, t, value: 1, merge: 'sum' }]));
        }
        s.next += Math.ceil(writesPerRound / 8) * MINUTE;
        const used = process.cpuUsage(before);
        per[days].push((used.user + used.system) / writesPerRound);
      }
    }
  } finally {
    for (const s of Object.values(stores)) {
      await s.store.close();
      rmSync(s.dir, { recursive: true, force: true });
    }
  }
  const ratio = median(per[400].map((x, i) => x / per[1][i]));
  console.log(`statistics sample write, µs CPU: 1 day ${per[1].map((x) => x.toFixed(0)).join('/')}, 400 days ${per[400].map((x) => x.toFixed(0)).join('/')}`);
  return { cpuUs: { 1: median(per[1]), 400: median(per[400]) }, ratio, rounds, writesPerRound };
}

/** The report's rows for `npm run bench`. */
export function seriesReport(r: SeriesWriteResult): string[] {
  return [
    '## Statistics storage',
    '',
    `Writing one statistics sample (one point of one series, merged into its minute, one committed transaction each, durable store), with 1 day and with 400 days of minute points behind it: two stores written in ${r.rounds} alternating rounds of ${r.writesPerRound} writes, CPU per write of the benchmark process (the store runs in it).`,
    '',
    '| History | µs CPU per sample written |',
    '|---|---|',
    `| 1 day (${DAY_MINUTES.toLocaleString('en-US')} points) | ${r.cpuUs[1].toFixed(1)} |`,
    `| 400 days (${(400 * DAY_MINUTES).toLocaleString('en-US')} points) | ${r.cpuUs[400].toFixed(1)} |`,
    '',
    `400 days over 1 day: **${r.ratio.toFixed(2)}×** (paired rounds; the store promises the same cost whatever the series' length).`,
  ];
}
