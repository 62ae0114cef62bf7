/**
 * `kill -9` at a random moment under mixed write load: after a restart on
 * the same data directory every acknowledged write must be there, and every
 * transition that was pending must complete (no proxy left CREATING, no
 * scheduled transition left in the store).
 */
import Database from 'better-sqlite3';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { DEFAULT_ACCOUNT } from '../../src/config';
import { cnClient } from '../../testkit/sdk';
import { ciClient } from '../../testkit/cos-client';
import { prng } from '../../testkit/prng';
import { freePort } from '../servers';
import { MixedLoad, type Acknowledged } from './load';
import { NODE_FLAGS } from '../../src/core/node-flags';

const CLI = resolve(__dirname, '../../src/cli.js');
const MEMORY_PROBE = resolve(__dirname, 'memory-probe.js');
/** Long enough that kills land while proxies and AMS tasks are mid-transition. */
const TRANSITION_MS = 400;

export interface KillTrial {
  trial: number;
  /** After the first 20 acknowledged writes. */
  killAfterMs: number;
  acknowledged: number;
  lost: Acknowledged[];
  /** Transitions pending in the store as the kill left it: the restart had these to complete. */
  pendingAtKill: number;
  /** Transitions still pending (or proxies still transient) after the restart settled. */
  unfinished: number;
  unexpected: string[];
}

/** tclocal in its own process on a durable data directory, rate limits off. */
/** `memoryFile`: load memory-probe.ts into the process, which writes its heap figures there. */
export async function startProcess(dataDir: string, port: number, transitionMs = TRANSITION_MS, memoryFile?: string): Promise<ChildProcess> {
  const probe = memoryFile ? ['--require', MEMORY_PROBE] : [];
  const env = memoryFile ? { ...process.env, SOAK_MEMORY_FILE: memoryFile } : process.env;
  // As `npm start` runs it.
  const child = spawn(process.execPath, [...NODE_FLAGS, ...probe, CLI, 'start', '--port', String(port), '--dns-port', '0', '--data-dir', dataDir, '--rate-limits', 'off', '--log-level', 'silent', '--transition-ms', String(transitionMs)], { stdio: 'ignore', env });
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    try {
      if ((await fetch(`http://127.0.0.1:${port}/_tclocal/health`)).ok) return child;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  child.kill('SIGKILL');
  throw new Error('tclocal did not become ready');
}

export const stopProcess = (child: ChildProcess, signal: NodeJS.Signals) =>
  new Promise<void>((r) => {
    if (child.exitCode !== null || child.signalCode !== null) return r();
    child.once('exit', () => r());
    child.kill(signal);
  });

/** Whether an acknowledged resource is still there, asked through the API as a user would. */
async function present(port: number, a: Acknowledged): Promise<boolean> {
  const gaap = cnClient('gaap', { port });
  try {
    switch (`${a.service}:${a.kind}`) {
      case 'gaap:certificate':
        return (await gaap.DescribeCertificateDetail({ CertificateId: a.id })).CertificateDetail.CertificateId === a.id;
      case 'gaap:proxy':
        return (await gaap.DescribeProxies({ ProxyIds: [a.id] })).TotalCount === 1;
      case 'gaap:group':
        return (await gaap.DescribeProxyGroupDetails({ GroupId: a.id })).ProxyGroupDetail.GroupId === a.id;
      case 'ssl:certificate':
        return (await cnClient('ssl', { port }).DescribeCertificateDetail({ CertificateId: a.id })).CertificateId === a.id;
      case 'ams:task':
        return (await cnClient('ams', { port }).DescribeTaskDetail({ TaskId: a.id })).TaskId === a.id;
      case 'ci:job':
        return (await ciClient({ port, account: DEFAULT_ACCOUNT }).query(a.id)).Response.JobsDetail.JobId === a.id;
      default:
        throw new Error(`no check for ${a.service}:${a.kind}`);
    }
  } catch {
    return false;
  }
}

/** Pending transitions in the store plus proxies still in a transient status, once they had time to complete. */
async function unfinishedAfterSettling(port: number): Promise<number> {
  let count = 0;
  const deadline = Date.now() + TRANSITION_MS * 10 + 5000;
  while (Date.now() < deadline) {
    const state = (await (await fetch(`http://127.0.0.1:${port}/_tclocal/state`)).json()) as { tables: { transitions: unknown[]; resources: Array<{ kind: string; status: string | null }> } };
    const transient = state.tables.resources.filter((r) => r.kind === 'gaap.proxy' && r.status !== 'RUNNING' && /ING$/.test(r.status ?? '')).length;
    count = state.tables.transitions.length + transient;
    if (count === 0) return 0;
    await new Promise((r) => setTimeout(r, 200));
  }
  return count;
}

/** One trial: load, kill -9 after `killAfterMs`, restart, check. */
export async function killTrial(trial: number, seed: number): Promise<KillTrial> {
  const r = prng(seed);
  const dataDir = mkdtempSync(join(tmpdir(), 'tclocal-kill-'));
  const port = await freePort();
  try {
    let child = await startProcess(dataDir, port);
    const load = new MixedLoad(port, false);
    let running = true;
    const workers = Array.from({ length: 6 }, async (_, w) => {
      const wr = prng(seed * 31 + w);
      while (running && (await load.step(wr)));
    });
    // Kill at a random moment once the load is under way (a loaded machine takes longer to get there).
    const underWay = Date.now() + 20_000;
    while (load.stats.acknowledged.length < 20 && Date.now() < underWay) await new Promise((res) => setTimeout(res, 20));
    const killAfterMs = r.int(1500);
    await new Promise((res) => setTimeout(res, killAfterMs));
    await stopProcess(child, 'SIGKILL');
    running = false;
    await Promise.all(workers);

    // What the kill left behind, read straight from the database file (the WAL is replayed on open).
    const db = new Database(join(dataDir, 'tclocal.db'));
    const pendingAtKill = (db.prepare('SELECT count(*) AS n FROM transitions').get() as { n: number }).n;
    db.close();

    child = await startProcess(dataDir, port);
    try {
      const lost: Acknowledged[] = [];
      for (const a of load.stats.acknowledged) if (!(await present(port, a))) lost.push(a);
      const unfinished = await unfinishedAfterSettling(port);
      return { trial, killAfterMs, acknowledged: load.stats.acknowledged.length, lost, pendingAtKill, unfinished, unexpected: load.stats.unexpected };
    } finally {
      await stopProcess(child, 'SIGTERM');
    }
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}
