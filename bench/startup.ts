/**
 * Start-up: time from spawning the process to the first 200 from
 * `/_tclocal/health`, for tclocal in memory, on a data directory that
 * already exists (a restart), on a new one (first start: the local CA is
 * made), and for a bare Node HTTP server started the same way as the
 * reference. Rounds alternate between them; medians are reported.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { freePort } from './servers';

const CLI = resolve(__dirname, '../src/cli.js');
const BARE = resolve(__dirname, 'baseline-server.js');

export interface StartupResult {
  rounds: number;
  /** Median milliseconds from spawn to ready, per kind. */
  bare: number;
  inMemory: number;
  dataDir: number;
  firstStart: number;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** Spawns `args`, polls health every 5 ms, and returns the milliseconds until it answered 200. */
async function timeToReady(args: string[], port: number): Promise<number> {
  const started = process.hrtime.bigint();
  const child = spawn(process.execPath, args, { stdio: 'ignore' });
  try {
    for (;;) {
      if (child.exitCode !== null) throw new Error(`${args.join(' ')} exited with ${child.exitCode}`);
      try {
        if ((await fetch(`http://127.0.0.1:${port}/_tclocal/health`)).status === 200) return Number(process.hrtime.bigint() - started) / 1e6;
      } catch {
        // not listening yet
      }
      await new Promise((r) => setTimeout(r, 5));
    }
  } finally {
    await new Promise<void>((r) => {
      if (child.exitCode !== null || child.signalCode !== null) return r();
      child.once('exit', () => r());
      child.kill('SIGKILL');
    });
  }
}

export async function startupBenchmark(rounds = 7): Promise<StartupResult> {
  const work = mkdtempSync(join(tmpdir(), 'tclocal-startup-'));
  const body = join(work, 'body.json');
  writeFileSync(body, '{}');
  const tclocal = (port: number, store: string[]) => [CLI, 'start', '--port', String(port), '--dns-port', '0', ...store];
  const kinds: Record<keyof Omit<StartupResult, 'rounds'>, (port: number, round: number) => string[]> = {
    bare: (port) => [BARE, 'bare', String(port), body],
    inMemory: (port) => tclocal(port, ['--in-memory', '--ca-dir', join(work, 'ca')]),
    dataDir: (port) => tclocal(port, ['--data-dir', join(work, 'data')]),
    firstStart: (port, round) => tclocal(port, ['--data-dir', join(work, `new-${round}`)]),
  };
  const times: Record<string, number[]> = {};
  try {
    // One unmeasured start of each: the data directory and CA exist afterwards, and the files are in the page cache.
    for (const args of Object.values(kinds)) {
      const port = await freePort();
      await timeToReady(args(port, -1), port);
    }
    for (let round = 0; round < rounds; round++) {
      for (const [name, args] of Object.entries(kinds)) {
        const port = await freePort();
        (times[name] ??= []).push(await timeToReady(args(port, round), port));
      }
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  return { rounds, bare: median(times.bare), inMemory: median(times.inMemory), dataDir: median(times.dataDir), firstStart: median(times.firstStart) };
}

if (require.main === module) {
  void startupBenchmark(Number(process.argv[2] ?? 7)).then((r) => console.log(JSON.stringify(r)));
}
