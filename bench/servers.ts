/**
 * Processes the benchmarks measure: tclocal itself, and the reference
 * servers of bench/baseline-server answering fixed bytes.
 */
import { fork, spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { CapturedRequest } from '../testkit/sdk';
import type { Replay } from './load';
import { NODE_FLAGS } from '../src/core/node-flags';

const CLI = resolve(__dirname, '../src/cli.js');

export const freePort = () =>
  new Promise<number>((res) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as AddressInfo).port;
      s.close(() => res(port));
    });
  });

/** CPU time (user + system) a process has used, in seconds (Linux clock ticks are 1/100 s). */
export function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** Resident memory of a process, in MB. */
export const rssMb = (pid: number) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) / 1024;

async function waitReady(port: number, timeoutMs = 10_000): Promise<number> {
  const start = Date.now();
  while (Date.now() - start < timeoutMs) {
    try {
      const r = await fetch(`http://127.0.0.1:${port}/_tclocal/health`);
      if (r.ok) return Date.now() - start;
    } catch {
      // not yet
    }
    await new Promise((r) => setTimeout(r, 5));
  }
  throw new Error('server not ready');
}

/**
 * tclocal in its own process, in memory, rate limits off, plus `extra`
 * flags; `cli`: another build's; `nodeFlags` for Node itself (such as
 * `--cpu-prof`).
 */
export async function startTclocalProcess(extra: string[] = [], cli = CLI, nodeFlags: string[] = []): Promise<{ port: number; child: ChildProcess; readyMs: number }> {
  const port = await freePort();
  const t0 = Date.now();
  // As `npm start` runs it.
  const child = spawn(process.execPath, [...NODE_FLAGS, ...nodeFlags, cli, 'start', '--port', String(port), '--dns-port', '0', '--in-memory', '--rate-limits', 'off', ...extra], { stdio: 'ignore' });
  await waitReady(port);
  return { port, child, readyMs: Date.now() - t0 };
}

/**
 * A reference server answering `body` to every request: `bare` only answers,
 * `hmac` first computes the TC3 signature chain for the request.
 */
export async function startReference(mode: 'bare' | 'hmac', body: Buffer): Promise<{ port: number; stop: () => void }> {
  const file = join(tmpdir(), `tclocal-bench-body-${process.pid}-${mode}-${Date.now()}.json`);
  writeFileSync(file, body);
  const port = await freePort();
  const child = fork(resolve(__dirname, 'baseline-server.js'), [mode, String(port), file], { stdio: 'ignore' });
  await new Promise((r) => child.once('message', r));
  return { port, stop: () => { child.kill('SIGKILL'); rmSync(file, { force: true }); } };
}

/** An SDK request captured by the test helpers, as a request to replay. */
export function toReplay(captured: CapturedRequest): Replay {
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(captured.headers)) if (typeof v === 'string' && k !== 'content-length' && k !== 'connection') headers[k] = v;
  return { method: captured.method, path: captured.url, headers, body: captured.body.toString() };
}
