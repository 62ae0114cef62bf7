/**
 * Mixed load of every product for a while, against tclocal in its own
 * process on a durable store: resident memory sampled after a warm-up and
 * at the end, unexpected errors counted. Steps delete what they create
 * where the API allows, so growth means a leak rather than more data.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { prng } from '../../testkit/prng';
import { freePort, rssMb } from '../servers';
import { startProcess, stopProcess } from './kill';
import { MixedLoad } from './load';

export interface SoakReport {
  minutes: number;
  calls: number;
  unexpected: number;
  unexpectedSamples: string[];
  /** Minutes of warm-up before the baseline: caches fill to their bounds (SQLite's page cache is 16 MB). */
  warmUpMinutes: number;
  /** RSS after one minute (informative), at the end of the warm-up, at half time and at the end. */
  rssFirstMinuteMb: number;
  rssStartMb: number;
  rssMidMb: number;
  rssEndMb: number;
  rssMaxMb: number;
  /** (end − start) / start, in percent: growth after the warm-up. */
  rssGrowthPct: number;
  /** The server answered to the end. */
  survived: boolean;
}

/** Each RSS figure is the median of the samples of one minute (or less in short runs): one sample moves with the garbage collector. */
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/**
 * `resetEveryMs`: empty the state that often (POST /_tclocal/reset), so the data stays bounded and the RSS
 * measures what the process keeps, not the SQLite page cache following a growing file.
 */
export async function runSoak(minutes: number, concurrency = 4, onProgress?: (line: string) => void, resetEveryMs = 0): Promise<SoakReport> {
  const dataDir = mkdtempSync(join(tmpdir(), 'tclocal-soak-'));
  const port = await freePort();
  const child = await startProcess(dataDir, port, 0);
  try {
    const load = new MixedLoad(port, true);
    const total = minutes * 60_000;
    // A sixth of the run, at most 5 minutes; each figure is the median over the minute (or tenth of the run) before it.
    const warmUp = Math.min(5 * 60_000, total / 6);
    const window = Math.min(60_000, total / 10);
    const started = Date.now();
    const samples: Array<{ at: number; rss: number }> = [];
    let survived = true;
    const sample = () => {
      const rss = rssMb(child.pid!);
      samples.push({ at: Date.now() - started, rss });
      return rss;
    };
    const sampler = setInterval(() => {
      const rss = sample();
      onProgress?.(`soak ${((Date.now() - started) / 60_000).toFixed(1)} min: ${load.stats.calls} calls, RSS ${rss.toFixed(1)} MB, ${load.stats.unexpected.length} unexpected`);
    }, Math.min(10_000, Math.max(1000, total / 60)));
    const resetter = resetEveryMs > 0 ? setInterval(() => void fetch(`http://127.0.0.1:${port}/_tclocal/reset`, { method: 'POST' }).catch(() => undefined), resetEveryMs) : undefined;
    await Promise.all(Array.from({ length: concurrency }, async (_, w) => {
      const r = prng(1000 + w);
      while (Date.now() - started < total) {
        if (!(await load.step(r))) {
          survived = false;
          return;
        }
      }
    }));
    clearInterval(sampler);
    if (resetter) clearInterval(resetter);
    sample();
    /** Median RSS of the samples in the window that ends at `end`. */
    const at = (end: number) => median(samples.filter((x) => x.at > end - window && x.at <= end).map((x) => x.rss)) ?? samples[samples.length - 1].rss;
    const rssStart = at(warmUp);
    const rssEnd = at(samples[samples.length - 1].at);
    return {
      minutes, calls: load.stats.calls, unexpected: load.stats.unexpected.length, unexpectedSamples: [...new Set(load.stats.unexpected)].slice(0, 5),
      warmUpMinutes: warmUp / 60_000, rssFirstMinuteMb: at(Math.min(60_000, warmUp)), rssStartMb: rssStart, rssMidMb: at(total / 2), rssEndMb: rssEnd,
      rssMaxMb: Math.max(...samples.map((x) => x.rss)), rssGrowthPct: ((rssEnd - rssStart) / rssStart) * 100, survived,
    };
  } finally {
    await stopProcess(child, 'SIGTERM');
    rmSync(dataDir, { recursive: true, force: true });
  }
}
