/**
 * Mixed load of every product for a while, against tclocal in its own
 * process on a durable store: resident memory sampled after a warm-up and
 * at the end, unexpected errors counted. Steps delete what they create
 * where the API allows, so growth means a leak rather than more data.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { prng } from '../../test/support/prng';
import { freePort, rssMb } from '../servers';
import { startProcess, stopProcess } from './kill';
import { MixedLoad } from './load';

export interface SoakReport {
  minutes: number;
  calls: number;
  unexpected: number;
  unexpectedSamples: string[];
  rssStartMb: number;
  rssEndMb: number;
  rssMaxMb: number;
  /** At half time: growth over the second half tells a leak from caches filling (SQLite's page cache is 64 MB). */
  rssMidMb: number;
  /** (end − start) / start, in percent. */
  rssGrowthPct: number;
  /** The server answered to the end. */
  survived: boolean;
}

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
    const warmUp = Math.min(60_000, total / 10);
    const started = Date.now();
    let rssStart = 0;
    let rssMid = 0;
    let rssMax = 0;
    let survived = true;
    const sampler = setInterval(() => {
      const rss = rssMb(child.pid!);
      rssMax = Math.max(rssMax, rss);
      if (!rssStart && Date.now() - started >= warmUp) rssStart = rss;
      if (!rssMid && Date.now() - started >= total / 2) rssMid = rss;
      onProgress?.(`soak ${((Date.now() - started) / 60_000).toFixed(1)} min: ${load.stats.calls} calls, RSS ${rss.toFixed(1)} MB, ${load.stats.unexpected.length} unexpected`);
    }, Math.min(10_000, Math.max(1000, total / 20)));
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
    const rssEnd = rssMb(child.pid!);
    if (!rssStart) rssStart = rssEnd;
    return {
      minutes, calls: load.stats.calls, unexpected: load.stats.unexpected.length, unexpectedSamples: [...new Set(load.stats.unexpected)].slice(0, 5),
      rssStartMb: rssStart, rssMidMb: rssMid || rssEnd, rssEndMb: rssEnd, rssMaxMb: Math.max(rssMax, rssEnd), rssGrowthPct: ((rssEnd - rssStart) / rssStart) * 100, survived,
    };
  } finally {
    await stopProcess(child, 'SIGTERM');
    rmSync(dataDir, { recursive: true, force: true });
  }
}
