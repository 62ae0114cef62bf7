/**
 * Mixed load of every product for a while, with short TCP connections
 * through a data-plane listener beside it, against tclocal in its own
 * process on a durable store: resident memory sampled from a baseline taken
 * once the caches are full to the end, with the process's own heap figures
 * beside it, and unexpected errors counted. Steps delete what they create
 * where the API allows, so growth means a leak rather than more data.
 */
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CACHE_KIB } from '../../src/store/sqlite/connection';
import { prng } from '../../testkit/prng';
import { freePort } from '../servers';
import { startProcess, stopProcess } from './kill';
import { MixedLoad } from './load';
import { TrafficLoad, type TrafficStats } from './traffic';

/** One sample of the tclocal process, in MB (calls: made so far). */
export interface MemorySample {
  at: number;
  calls: number;
  rss: number;
  /** Resident pages mapped from files (the node binary's code as it is paged in), from /proc. */
  rssFile: number;
  /** V8's heap as reserved, and the part in use, from the process itself (memory-probe.ts). */
  heapTotal: number;
  heapUsed: number;
  /** Memory of JavaScript objects held outside the heap (Buffers included). */
  external: number;
  /** Size of the database file (not its write-ahead log). */
  db: number;
}

export interface SoakReport {
  minutes: number;
  calls: number;
  unexpected: number;
  unexpectedSamples: string[];
  /** How the warm-up ended: the database reached the mark, or (it never did) a sixth of the run passed. */
  warmUpRule: 'database' | 'time';
  /** The warm-up's end: minutes into the run and calls made by then. */
  warmUpMinutes: number;
  warmUpCalls: number;
  /** Medians of a window (a minute, or a tenth of a short run): the first, the one after the warm-up (the baseline), the middle of the rest, the last. */
  first: MemorySample;
  start: MemorySample;
  mid: MemorySample;
  end: MemorySample;
  rssMaxMb: number;
  /** (end − start) / start of RSS, in percent: growth after the warm-up. */
  rssGrowthPct: number;
  /** The server answered to the end. */
  survived: boolean;
  /** Short TCP connections through a data-plane listener meanwhile. */
  traffic: TrafficStats;
}

/**
 * The warm-up ends once the database file is a quarter larger than SQLite's page cache may grow: the writes and
 * reads have then passed more pages through the cache than it keeps, so it is full and RSS has its working size
 * (measured: RSS stops rising when the file reaches about the cache's size). Counting data rather than minutes
 * makes the baseline the same point of the load on an idle or a loaded machine.
 */
export const WARM_UP_DATABASE_MB = (1.25 * CACHE_KIB) / 1024;

const MB = 1024 * 1024;
/** Each figure is the median of the samples of one window: one sample moves with the garbage collector. */
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const procKb = (status: string, field: string) => Number(new RegExp(`${field}:\\s+(\\d+)`).exec(status)?.[1] ?? NaN) / 1024;
const fileMb = (file: string) => {
  try {
    return statSync(file).size / MB;
  } catch {
    return 0;
  }
};

/**
 * `resetEveryMs`: empty the state that often (POST /_tclocal/reset), so the data stays bounded and the RSS
 * measures what the process keeps, not the SQLite page cache following a growing file.
 */
export async function runSoak(minutes: number, concurrency = 4, onProgress?: (line: string) => void, resetEveryMs = 0): Promise<SoakReport> {
  const dataDir = mkdtempSync(join(tmpdir(), 'tclocal-soak-'));
  const memoryFile = join(dataDir, 'memory.json');
  const port = await freePort();
  const child = await startProcess(dataDir, port, 0, memoryFile);
  try {
    const load = new MixedLoad(port, true);
    const traffic = new TrafficLoad();
    await traffic.start(port, 20_000 + Math.floor(Math.random() * 20_000));
    const total = minutes * 60_000;
    // Each figure is the median over the minute (or tenth of the run) before it.
    const window = Math.min(60_000, total / 10);
    const started = Date.now();
    const samples: MemorySample[] = [];
    let survived = true;
    const sample = (): MemorySample => {
      const status = readFileSync(`/proc/${child.pid}/status`, 'utf8');
      let own = { heapTotal: NaN, heapUsed: NaN, external: NaN };
      try {
        own = JSON.parse(readFileSync(memoryFile, 'utf8'));
      } catch {
        // Not written yet, or caught mid-write: the next sample has it.
      }
      const s: MemorySample = {
        at: Date.now() - started, calls: load.stats.calls, rss: procKb(status, 'VmRSS'), rssFile: procKb(status, 'RssFile'),
        heapTotal: own.heapTotal / MB, heapUsed: own.heapUsed / MB, external: own.external / MB, db: fileMb(join(dataDir, 'tclocal.db')),
      };
      samples.push(s);
      return s;
    };
    const sampler = setInterval(() => {
      const s = sample();
      onProgress?.(`soak ${(s.at / 60_000).toFixed(1)} min: ${s.calls} calls, RSS ${s.rss.toFixed(1)} MB (heap ${s.heapUsed.toFixed(1)}/${s.heapTotal.toFixed(1)}, external ${s.external.toFixed(1)}, file-backed ${s.rssFile.toFixed(1)}), database ${s.db.toFixed(1)} MB, ${load.stats.unexpected.length} unexpected`);
    }, Math.min(10_000, Math.max(1000, total / 60)));
    const resetter = resetEveryMs > 0 ? setInterval(() => void fetch(`http://127.0.0.1:${port}/_tclocal/reset`, { method: 'POST' }).catch(() => undefined), resetEveryMs) : undefined;
    const forwarding = (async () => {
      while (Date.now() - started < total) await traffic.step();
    })();
    await Promise.all([forwarding, ...Array.from({ length: concurrency }, async (_, w) => {
      const r = prng(1000 + w);
      while (Date.now() - started < total) {
        if (!(await load.step(r))) {
          survived = false;
          return;
        }
      }
    })]);
    traffic.stop();
    clearInterval(sampler);
    if (resetter) clearInterval(resetter);
    sample();
    /** Medians of the samples in the window that ends at `end`. */
    const at = (end: number): MemorySample => {
      const inWindow = samples.filter((x) => x.at > end - window && x.at <= end);
      if (inWindow.length === 0) return samples.find((x) => x.at >= end) ?? samples[samples.length - 1];
      const m = (k: keyof MemorySample) => median(inWindow.map((x) => x[k]));
      return { at: end, calls: inWindow[inWindow.length - 1].calls, rss: m('rss'), rssFile: m('rssFile'), heapTotal: m('heapTotal'), heapUsed: m('heapUsed'), external: m('external'), db: m('db') };
    };
    // The baseline: the first sample past the mark and a full window into the run, or a sixth of the run when the database stays small.
    const filled = samples.find((x) => x.db >= WARM_UP_DATABASE_MB && x.at >= window && x.at <= total / 2);
    const warmUp = filled?.at ?? total / 6;
    const last = samples[samples.length - 1].at;
    // The baseline is the window that follows the warm-up, when the caches are full.
    const start = at(Math.min(warmUp + window, last));
    const end = at(last);
    return {
      minutes, calls: load.stats.calls, unexpected: load.stats.unexpected.length, unexpectedSamples: [...new Set(load.stats.unexpected)].slice(0, 5),
      warmUpRule: filled ? 'database' : 'time', warmUpMinutes: warmUp / 60_000, warmUpCalls: filled?.calls ?? at(warmUp).calls,
      first: at(window), start, mid: at((start.at + last) / 2), end,
      rssMaxMb: Math.max(...samples.map((x) => x.rss)), rssGrowthPct: ((end.rss - start.rss) / start.rss) * 100, survived, traffic: traffic.stats,
    };
  } finally {
    await stopProcess(child, 'SIGTERM');
    rmSync(dataDir, { recursive: true, force: true });
  }
}
