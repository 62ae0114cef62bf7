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
import { cpuSeconds, freePort } from './servers';

const CLI = resolve(__dirname, '../src/cli.js');
const BARE = resolve(__dirname, 'baseline-server.js');

type Kind = 'bare' | 'inMemory' | 'dataDir' | 'firstStart';

export interface StartupResult extends Record<Kind, number> {
  rounds: number;
  /** Median milliseconds from spawn to ready, per kind (the fields); and the CPU time the process had used by then. */
  cpu: Record<Kind, number>;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/**
 * Spawns `args`, polls health every 5 ms, and returns the milliseconds until it answered 200, with the
 * CPU milliseconds the process had used by then (which a busy machine moves much less than the wall time).
 */
async function timeToReady(args: string[], port: number): Promise<{ ms: number; cpuMs: number }> {
  const started = process.hrtime.bigint();
  const child = spawn(process.execPath, args, { stdio: 'ignore' });
  try {
    for (;;) {
      if (child.exitCode !== null) throw new Error(`${args.join(' ')} exited with ${child.exitCode}`);
      try {
        if ((await fetch(`http://127.0.0.1:${port}/_tclocal/health`)).status === 200) {
          return { ms: Number(process.hrtime.bigint() - started) / 1e6, cpuMs: cpuSeconds(child.pid!) * 1000 };
        }
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
  const kinds: Record<Kind, (port: number, round: number) => string[]> = {
    bare: (port) => [BARE, 'bare', String(port), body],
    inMemory: (port) => tclocal(port, ['--in-memory', '--ca-dir', join(work, 'ca')]),
    dataDir: (port) => tclocal(port, ['--data-dir', join(work, 'data')]),
    firstStart: (port, round) => tclocal(port, ['--data-dir', join(work, `new-${round}`)]),
  };
  const times = {} as Record<Kind, number[]>;
  const cpu = {} as Record<Kind, number[]>;
  try {
    // One unmeasured start of each: the data directory and CA exist afterwards, and the files are in the page cache.
    for (const args of Object.values(kinds)) {
      const port = await freePort();
      await timeToReady(args(port, -1), port);
    }
    for (let round = 0; round < rounds; round++) {
      for (const [name, args] of Object.entries(kinds) as Array<[Kind, (typeof kinds)[Kind]]>) {
        const port = await freePort();
        const t = await timeToReady(args(port, round), port);
        (times[name] ??= []).push(t.ms);
        (cpu[name] ??= []).push(t.cpuMs);
      }
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  const kindsOf = (xs: Record<Kind, number[]>) => ({ bare: median(xs.bare), inMemory: median(xs.inMemory), dataDir: median(xs.dataDir), firstStart: median(xs.firstStart) });
  return { rounds, ...kindsOf(times), cpu: kindsOf(cpu) };
}

if (require.main === module) {
  void startupBenchmark(Number(process.argv[2] ?? 7)).then((r) => console.log(JSON.stringify(r)));
}
