/**
 * `npm run bench:dataplane`: the GAAP data plane (caps off) against HAProxy
 * (TCP) and nginx stream (UDP) on the same machine, in alternating rounds,
 * forwarding to the same origins (iperf3 for bulk, nginx stream `return`
 * for short TCP exchanges and UDP replies). Missing Debian packages are
 * installed first. Writes its section of BENCHMARKS.md.
 */
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { DATAPLANE_HEADING, writeSection } from './report';
import { freePort, rssMb, startTclocalProcess } from './servers';

const ROUNDS = 5;
const SECONDS = 3;


/** Debian packages the benchmark runs, installed when missing (without starting their services). */
function ensurePackages(): void {
  const wanted: Array<[string, string]> = [['haproxy', '/usr/sbin/haproxy'], ['nginx', '/usr/sbin/nginx'], ['libnginx-mod-stream', '/usr/lib/nginx/modules/ngx_stream_module.so'], ['iperf3', '/usr/bin/iperf3']];
  const missing = wanted.filter(([, file]) => !existsSync(file)).map(([pkg]) => pkg);
  if (missing.length === 0) return;
  console.error(`installing ${missing.join(', ')} …`);
  const policy = '/usr/sbin/policy-rc.d';
  const ownPolicy = !existsSync(policy);
  // Keep the packages' services from starting (they would take port 80).
  if (ownPolicy) writeFileSync(policy, '#!/bin/sh\nexit 101\n', { mode: 0o755 });
  try {
    execFileSync('apt-get', ['update', '-qq'], { stdio: 'inherit' });
    execFileSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...missing], { stdio: 'inherit', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
  } finally {
    if (ownPolicy) rmSync(policy, { force: true });
  }
}

const dir = mkdtempSync(join(tmpdir(), 'tclocal-bench-dp-'));
const children: ChildProcess[] = [];
const run = (cmd: string, args: string[]) => {
  const c = spawn(cmd, args, { stdio: 'ignore' });
  children.push(c);
  return c;
};
const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** SIGTERM, so nginx's master takes its workers with it. */
async function stopAll(): Promise<void> {
  const exits = children.filter((c) => c.exitCode === null && c.signalCode === null).map((c) => new Promise((r) => c.once('exit', r)));
  for (const c of children) c.kill('SIGTERM');
  await Promise.race([Promise.all(exits), pause(3000)]);
}

async function waitTcp(host: string, port: number): Promise<void> {
  for (let i = 0; i < 500; i++) {
    const ok = await new Promise<boolean>((res) => {
      const s = connect({ host, port });
      s.once('connect', () => {
        s.destroy();
        res(true);
      });
      s.once('error', () => res(false));
    });
    if (ok) return;
    await pause(10);
  }
  throw new Error(`nothing listens on ${host}:${port}`);
}

interface Ports {
  iperf: number;
  pong: number;
  udp: number;
}

/** Origins: iperf3 for bulk, nginx stream answering `pong` and closing (TCP) or replying `pong` (UDP). */
async function startOrigins(): Promise<Ports> {
  const ports = { iperf: await freePort(), pong: await freePort(), udp: await freePort() };
  run('iperf3', ['-s', '-B', '127.0.0.1', '-p', String(ports.iperf)]);
  const conf = join(dir, 'origin-nginx.conf');
  writeFileSync(conf, `load_module /usr/lib/nginx/modules/ngx_stream_module.so;
daemon off; worker_processes 1; pid ${dir}/origin.pid; error_log ${dir}/origin-error.log;
events { worker_connections 4096; }
stream {
  server { listen 127.0.0.1:${ports.pong} reuseport; return "pong"; }
  server { listen 127.0.0.1:${ports.udp} udp; return "pong"; }
}
`);
  run('nginx', ['-c', conf, '-p', dir, '-e', `${dir}/origin-error.log`]);
  await waitTcp('127.0.0.1', ports.pong);
  return ports;
}

/** HAProxy (TCP) and nginx stream (UDP) in front of the same origins, with their default thread/worker counts. */
async function startReferences(o: Ports): Promise<Ports> {
  const ports = { iperf: await freePort(), pong: await freePort(), udp: await freePort() };
  const hcfg = join(dir, 'haproxy.cfg');
  writeFileSync(hcfg, `defaults
  mode tcp
  timeout connect 5s
  timeout client 60s
  timeout server 60s
frontend bulk
  bind 127.0.0.1:${ports.iperf}
  default_backend bulk
backend bulk
  server s 127.0.0.1:${o.iperf}
frontend pong
  bind 127.0.0.1:${ports.pong}
  default_backend pong
backend pong
  server s 127.0.0.1:${o.pong}
`);
  run('haproxy', ['-f', hcfg, '-db']);
  const ncfg = join(dir, 'proxy-nginx.conf');
  writeFileSync(ncfg, `load_module /usr/lib/nginx/modules/ngx_stream_module.so;
daemon off; worker_processes auto; pid ${dir}/proxy.pid; error_log ${dir}/proxy-error.log;
events { worker_connections 4096; }
stream {
  server { listen 127.0.0.1:${ports.udp} udp reuseport; proxy_pass 127.0.0.1:${o.udp}; proxy_responses 1; proxy_timeout 120s; }
}
`);
  run('nginx', ['-c', ncfg, '-p', dir, '-e', `${dir}/proxy-error.log`]);
  // Not the bulk port: iperf3 serves one client at a time, and a probe would be one.
  await waitTcp('127.0.0.1', ports.pong);
  await pause(200);
  return ports;
}

/** A tclocal proxy with listeners forwarding to the origins, through the API. */
async function startTclocal(o: Ports): Promise<{ host: string; ports: Ports; pid: number; apiPort: number; gaap: any }> {
  const pool = `127.${100 + Math.floor(Math.random() * 100)}.${Math.floor(Math.random() * 256)}.0/24`;
  const t = await startTclocalProcess(['--dataplane-caps', 'off', '--dataplane-pool', pool, '--transition-ms', '0', '--log-level', 'silent']);
  children.push(t.child);
  const { gaap } = require('tencentcloud-sdk-nodejs/tencentcloud/services/gaap');
  const c = new gaap.v20180529.Client({
    credential: { secretId: 'AKIDTCLOCAL000000000000000000000000', secretKey: 'tclocal-default-secret-key' },
    region: '',
    profile: { httpProfile: { endpoint: `127.0.0.1:${t.port}`, protocol: 'http://', reqTimeout: 60 } },
  });
  const { InstanceId } = await c.CreateProxy({ ProjectId: 0, ProxyName: 'bench', AccessRegion: 'Hongkong', RealServerRegion: 'Beijing', Bandwidth: 1000, Concurrent: 30 });
  const rs = (await c.AddRealServers({ ProjectId: 0, RealServerIP: ['127.0.0.1'], RealServerName: 'o' })).RealServerSet[0].RealServerId;
  const ports = { iperf: await freePort(), pong: await freePort(), udp: await freePort() };
  for (const [proto, port, origin] of [['TCP', ports.iperf, o.iperf], ['TCP', ports.pong, o.pong], ['UDP', ports.udp, o.udp]] as const) {
    const create = proto === 'TCP' ? c.CreateTCPListeners.bind(c) : c.CreateUDPListeners.bind(c);
    const { ListenerIds } = await create({ ListenerName: `b${port}`, Ports: [port], Scheduler: 'rr', HealthCheck: 0, RealServerType: 'IP', ProxyId: InstanceId });
    await c.BindListenerRealServers({ ListenerId: ListenerIds[0], RealServerBindSet: [{ RealServerId: rs, RealServerIP: '127.0.0.1', RealServerPort: origin }] });
  }
  const host = (await c.DescribeProxies({ ProxyIds: [InstanceId] })).ProxySet[0].IP;
  await waitTcp(host, ports.pong);
  return { host, ports, pid: t.child.pid!, apiPort: t.port, gaap: c };
}

/** One iperf3 stream for SECONDS: received bits per second. */
function bulk(host: string, port: number): number {
  const out = execFileSync('iperf3', ['-c', host, '-p', String(port), '-t', String(SECONDS), '-J'], { encoding: 'utf8', timeout: (SECONDS + 20) * 1000 });
  return JSON.parse(out).end.sum_received.bits_per_second;
}

/** One short connection: connect, read the answer to its end, close (given up after 5 s). */
function shortConnection(host: string, port: number): Promise<void> {
  return new Promise<void>((res) => {
    const s = connect({ host, port });
    const timer = setTimeout(() => s.destroy(), 5000);
    s.on('data', () => undefined);
    s.on('error', () => undefined);
    s.on('close', () => {
      clearTimeout(timer);
      res();
    });
  });
}

/** Connect, read the answer to its end, close; `parallel` loops for SECONDS: connections per second. */
async function connectionsPerSecond(host: string, port: number, parallel = 16): Promise<number> {
  let done = 0;
  const until = Date.now() + SECONDS * 1000;
  const loop = async () => {
    while (Date.now() < until) {
      await shortConnection(host, port);
      done++;
    }
  };
  await Promise.all(Array.from({ length: parallel }, loop));
  return done / SECONDS;
}

/** One connection's round trip (connect, answer, close), one at a time: the latencies in ms. */
async function roundTrips(host: string, port: number, n = 1500): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    await shortConnection(host, port);
    out.push(performance.now() - t0);
  }
  return out.sort((a, b) => a - b);
}

/** UDP request/reply with `inFlight` outstanding datagrams for SECONDS: replies per second. */
async function udpEcho(host: string, port: number, inFlight = 32): Promise<number> {
  const sockets = await Promise.all(Array.from({ length: inFlight }, async () => {
    const s = createSocket('udp4');
    await new Promise<void>((r) => s.bind(0, '127.0.0.1', r));
    return s;
  }));
  let replies = 0;
  const until = Date.now() + SECONDS * 1000;
  const sentAt = new Map<unknown, number>();
  const send = (s: (typeof sockets)[number]) => {
    if (Date.now() >= until) return;
    sentAt.set(s, Date.now());
    s.send('ping', port, host);
  };
  for (const s of sockets) {
    s.on('message', () => {
      replies++;
      send(s);
    });
    send(s);
  }
  // A lost datagram would stall its socket: one without a reply for 50 ms sends again.
  const resend = setInterval(() => sockets.forEach((s) => Date.now() - (sentAt.get(s) ?? 0) > 50 && send(s)), 25);
  await pause(SECONDS * 1000);
  clearInterval(resend);
  for (const s of sockets) s.close();
  return replies / SECONDS;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const pct = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))];

/** 5,000 listeners on 500 proxies through the API: seconds until every one accepts, and the RSS growth. */
async function scale(): Promise<{ seconds: number; rssGrowth: number; apiSeconds: number }> {
  const pool = `127.${100 + Math.floor(Math.random() * 100)}.0.0/16`;
  const t = await startTclocalProcess(['--dataplane-caps', 'off', '--dataplane-pool', pool, '--transition-ms', '0', '--log-level', 'silent', '--rate-limits', 'off']);
  children.push(t.child);
  await pause(300);
  const rss0 = rssMb(t.child.pid!);
  const { gaap } = require('tencentcloud-sdk-nodejs/tencentcloud/services/gaap');
  const c = new gaap.v20180529.Client({
    credential: { secretId: 'AKIDTCLOCAL000000000000000000000000', secretKey: 'tclocal-default-secret-key' },
    region: '',
    profile: { httpProfile: { endpoint: `127.0.0.1:${t.port}`, protocol: 'http://', reqTimeout: 120 } },
  });
  const t0 = performance.now();
  const proxies: string[] = [];
  for (let i = 0; i < 500; i += 25) {
    const batch = await Promise.all(Array.from({ length: 25 }, () => c.CreateProxy({ ProjectId: 0, ProxyName: 'p', AccessRegion: 'Hongkong', RealServerRegion: 'Beijing', Bandwidth: 10, Concurrent: 2 })));
    proxies.push(...batch.map((b: any) => b.InstanceId));
  }
  const ports = Array.from({ length: 10 }, (_, i) => 30000 + i);
  for (let i = 0; i < proxies.length; i += 25) {
    await Promise.all(proxies.slice(i, i + 25).map((p) => c.CreateTCPListeners({ ListenerName: 'l', Ports: ports, Scheduler: 'rr', HealthCheck: 0, RealServerType: 'IP', ProxyId: p })));
  }
  const apiDone = performance.now();
  const ips: string[] = [];
  for (let i = 0; i < proxies.length; i += 100) {
    ips.push(...(await c.DescribeProxies({ ProxyIds: proxies.slice(i, i + 100), Limit: 100 })).ProxySet.map((p: any) => p.IP));
  }
  // Every listener accepts (no origin is bound, so the connection is then reset: reachability is the accept).
  const reach = (ip: string, port: number) => new Promise<boolean>((res) => {
    const s = connect({ host: ip, port });
    s.once('connect', () => {
      s.destroy();
      res(true);
    });
    s.once('error', (e: NodeJS.ErrnoException) => res(e.code === 'ECONNRESET'));
  });
  const pending = ips.flatMap((ip) => ports.map((port) => [ip, port] as const));
  let left = pending;
  while (left.length > 0) {
    const next: typeof left = [];
    for (let i = 0; i < left.length; i += 200) {
      const chunk = left.slice(i, i + 200);
      const ok = await Promise.all(chunk.map(([ip, port]) => reach(ip, port)));
      chunk.forEach((x, j) => !ok[j] && next.push(x));
    }
    left = next;
    if (left.length > 0) await pause(50);
    if (performance.now() - apiDone > 60_000) throw new Error(`${left.length} listeners unreachable after 60 s`);
  }
  const reachable = performance.now();
  const rss1 = rssMb(t.child.pid!);
  t.child.kill('SIGTERM');
  return { seconds: (reachable - apiDone) / 1000, rssGrowth: rss1 - rss0, apiSeconds: (apiDone - t0) / 1000 };
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  ensurePackages();
  const origins = await startOrigins();
  console.error('origins up');
  const ref = await startReferences(origins);
  console.error('HAProxy and nginx up');
  const tc = await startTclocal(origins);
  console.error(`tclocal forwarding on ${tc.host}`);
  const rounds: Record<string, { tclocal: number[]; ref: number[] }> = { bulk: { tclocal: [], ref: [] }, conns: { tclocal: [], ref: [] }, udp: { tclocal: [], ref: [] } };
  const lat = { tclocal: [] as number[], ref: [] as number[], direct: [] as number[] };
  // Alternating rounds: tclocal, then the reference, measure by measure; the order flips every round.
  for (let r = 0; r < ROUNDS; r++) {
    const order = r % 2 === 0 ? (['tclocal', 'ref'] as const) : (['ref', 'tclocal'] as const);
    for (const who of order) {
      const host = who === 'tclocal' ? tc.host : '127.0.0.1';
      const ports = who === 'tclocal' ? tc.ports : ref;
      console.error(`round ${r + 1} ${who}: bulk…`);
      rounds.bulk[who].push(bulk(host, ports.iperf));
      console.error(`round ${r + 1} ${who}: connections…`);
      rounds.conns[who].push(await connectionsPerSecond(host, ports.pong));
      rounds.udp[who].push(await udpEcho(host, ports.udp));
      console.error(`round ${r + 1} ${who}: bulk ${(rounds.bulk[who].at(-1)! / 1e9).toFixed(2)} Gbit/s, ${rounds.conns[who].at(-1)!.toFixed(0)} conn/s, ${rounds.udp[who].at(-1)!.toFixed(0)} UDP rt/s`);
    }
    for (const who of ['direct', ...order] as const) {
      const host = who === 'tclocal' ? tc.host : '127.0.0.1';
      const port = who === 'tclocal' ? tc.ports.pong : who === 'ref' ? ref.pong : origins.pong;
      lat[who].push(...(await roundTrips(host, port, 400)));
    }
  }
  const ratio = (k: string) => median(rounds[k].tclocal.map((v, i) => v / rounds[k].ref[i]));
  const p99 = (xs: number[]) => pct([...xs].sort((a, b) => a - b), 99);
  const added = { tclocal: p99(lat.tclocal) - p99(lat.direct), ref: p99(lat.ref) - p99(lat.direct) };
  const sc = args.includes('--no-scale') ? undefined : await scale();
  await stopAll();
  rmSync(dir, { recursive: true, force: true });

  const f = (n: number, d = 0) => n.toFixed(d);
  const met = (ok: boolean) => (ok ? 'met' : 'NOT met');
  const section = [
    `## ${DATAPLANE_HEADING}`,
    '',
    `Measured by \`npm run bench:dataplane\` (bench/dataplane.ts). Last run: ${new Date().toISOString().slice(0, 10)}, ${cpus().length} cores (${cpus()[0]?.model ?? 'unknown'}), Node ${process.version}; the machine was shared with other work, so absolute figures are noisy and the ratios of adjacent rounds are what to read.`,
    `tclocal (\`--dataplane-caps off\`) against HAProxy ${version('haproxy', ['-v'])} (TCP) and nginx ${version('nginx', ['-v'])} stream (UDP), both with their default thread/worker counts, on the same machine, ${ROUNDS} alternating rounds of ${SECONDS} s; origins: iperf3 for bulk, an nginx stream \`return\` server for short TCP exchanges and UDP replies. Ratios are medians of the ratios of adjacent rounds.`,
    '',
    '| Measure | tclocal | reference | ratio | target |',
    '|---|---|---|---|---|',
    `| one TCP stream, bulk (iperf3), Gbit/s | ${f(median(rounds.bulk.tclocal) / 1e9, 2)} | ${f(median(rounds.bulk.ref) / 1e9, 2)} (HAProxy) | ${f(ratio('bulk'), 2)}× | ≥ 0.9× — ${met(ratio('bulk') >= 0.9)} |`,
    `| new TCP connections/s (connect, one answer, close; 16 in parallel) | ${f(median(rounds.conns.tclocal))} | ${f(median(rounds.conns.ref))} (HAProxy) | ${f(ratio('conns'), 2)}× | ≥ 0.8× — ${met(ratio('conns') >= 0.8)} |`,
    `| UDP request/reply round trips/s (32 in flight) | ${f(median(rounds.udp.tclocal))} | ${f(median(rounds.udp.ref))} (nginx) | ${f(ratio('udp'), 2)}× | ≥ 1.0× — ${met(ratio('udp') >= 1)} |`,
    `| added latency of one connection's round trip, p99 (over ${lat.direct.length} direct ones: p99 ${f(p99(lat.direct), 3)} ms) | +${f(added.tclocal * 1000)} µs | +${f(added.ref * 1000)} µs (HAProxy) | — | ≤ HAProxy + 100 µs — ${met(added.tclocal <= added.ref + 0.1)} |`,
    ...(sc ? [`| 5,000 TCP listeners on 500 proxies: reachable after the API calls (calls took ${f(sc.apiSeconds, 1)} s) | ${f(sc.seconds, 2)} s | — | — | ≤ 5 s — ${met(sc.seconds <= 5)} |`,
      `| same: RSS growth | ${f(sc.rssGrowth)} MB | — | — | ≤ 150 MB — ${met(sc.rssGrowth <= 150)} |`] : []),
    '',
    'The load generators are Node processes on the same two cores (iperf3 for bulk), so they share the CPU with the proxy they measure; HAProxy and nginx may also use both cores where tclocal forwards on one thread.',
    '',
  ];
  if (!args.includes('--no-write')) writeSection(DATAPLANE_HEADING, section.join('\n'));
  console.log(section.join('\n'));
  process.exit(0);
}

/** The version a tool prints (nginx prints it on stderr). */
function version(cmd: string, args: string[]): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  return /(\d+\.\d+(\.\d+)?)/.exec(`${r.stdout}${r.stderr}`)?.[1] ?? '';
}

main().catch((err) => {
  console.error(err);
  void stopAll().then(() => process.exit(1));
});
