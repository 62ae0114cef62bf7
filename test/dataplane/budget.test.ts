/**
 * More listeners than the process may open files: the data plane stops
 * binding short of the limit, so that the API still accepts connections,
 * and binds the waiting listeners as sockets are freed. The server runs in
 * its own process with a lowered open-file limit.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { reserveFor } from '../../src/dataplane/budget';
import { cnClient, randomPool, TEST_CA_DIR } from '../helpers';
import { until } from './fixtures';

const CLI = resolve(__dirname, '../../src/cli.js');
const OPEN_FILES = 600;

const freePort = () =>
  new Promise<number>((res) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => res(port));
    });
  });

/** A request on a connection of its own (a dropped connection fails it). */
async function freshRequest(port: number): Promise<number> {
  try {
    return (await fetch(`http://127.0.0.1:${port}/_tclocal/health`, { headers: { connection: 'close' } })).status;
  } catch {
    return 0;
  }
}

describe('data plane: listener sockets stay within the open-file limit', () => {
  let child: ChildProcess;
  let port: number;
  let gaap: any;

  before(async () => {
    port = await freePort();
    const args = [CLI, 'start', '--port', String(port), '--dns-port', '0', '--in-memory', '--rate-limits', 'off', '--transition-ms', '0', '--log-level', 'silent', '--dataplane-pool', randomPool()];
    child = spawn('sh', ['-c', `ulimit -n ${OPEN_FILES} && exec "$0" "$@"`, process.execPath, ...args], { stdio: 'ignore', env: { ...process.env, TCLOCAL_CA_DIR: TEST_CA_DIR } });
    await until(async () => (await freshRequest(port)) === 200, 'the server ready', 20_000);
    gaap = cnClient('gaap', { port });
  });
  after(() => {
    child.kill('SIGKILL');
  });

  const report = async () => (await fetch(`http://127.0.0.1:${port}/_tclocal/dataplane`)).json() as Promise<any>;
  const listenersOf = (r: any): any[] => r.accounts.flatMap((a: any) => a.proxies.flatMap((p: any) => p.listeners));

  it('binds up to the budget, reports the rest, keeps answering new connections, and binds waiting listeners as others go', async () => {
    const budget = OPEN_FILES - reserveFor(OPEN_FILES);
    // More listeners than the process may open files at all.
    const proxies: string[] = [];
    for (let i = 0; i < 130; i += 26) {
      proxies.push(...(await Promise.all(Array.from({ length: 26 }, async () =>
        (await gaap.CreateProxy({ ProjectId: 0, ProxyName: 'b', AccessRegion: 'Hongkong', RealServerRegion: 'Beijing', Bandwidth: 10, Concurrent: 2 })).InstanceId as string))));
    }
    for (let i = 0; i < proxies.length; i += 26) {
      await Promise.all(proxies.slice(i, i + 26).map((p) =>
        gaap.CreateTCPListeners({ ListenerName: 'l', Ports: [8000, 8001, 8002, 8003, 8004], Scheduler: 'rr', HealthCheck: 0, RealServerType: 'IP', ProxyId: p })));
    }
    const full = await until(async () => {
      const r = await report();
      return listenersOf(r).length === 650 && listenersOf(r).every((l) => l.bound || l.error) ? r : undefined;
    }, 'every listener bound or refused', 30_000);
    assert.equal(full.sockets.budget, budget);
    const bound = listenersOf(full).filter((l) => l.bound);
    const refused = listenersOf(full).filter((l) => l.error);
    assert.equal(bound.length, budget);
    assert.equal(refused.length, 650 - budget);
    assert.match(refused[0].error, /^EMFILE: no open files left for more listeners/);

    // New connections to the API are still accepted and answered.
    const statuses = await Promise.all(Array.from({ length: 20 }, () => freshRequest(port)));
    assert.deepEqual(statuses, Array(20).fill(200));

    // Deleting bound listeners frees sockets for waiting ones.
    const byProxy = new Map<string, string[]>();
    for (const a of full.accounts) for (const p of a.proxies) byProxy.set(p.proxyId, p.listeners.filter((l: any) => l.bound).map((l: any) => l.listenerId));
    const [proxyId, ids] = [...byProxy].find(([, list]) => list.length === 5)!;
    await gaap.DeleteListeners({ ProxyId: proxyId, ListenerIds: ids, Force: 1 });
    await until(async () => {
      const r = await report();
      const now = listenersOf(r);
      return now.length === 645 && now.filter((l) => l.bound).length === budget && now.filter((l) => l.error).length === 645 - budget;
    }, 'waiting listeners bound in the freed places');
  });
});
