/**
 * `npm run bench:dataplane`: the GAAP data plane (caps off) against HAProxy
 * (TCP, HTTP, HTTPS) and nginx stream (UDP) on the same machine, in
 * alternating rounds, forwarding to the same origins (iperf3 for bulk, nginx
 * stream `return` for short TCP exchanges and UDP replies, nginx `return 200`
 * for HTTP). Beside them, stages that show what each part costs: a bare
 * `socket.pipe` proxy, tclocal through a proxy with a security policy, Node's
 * HTTP server answering by itself, and a plain Node HTTP proxy. Then the
 * API's signed read while a bulk transfer runs through the data plane.
 * Missing Debian packages are installed first. Writes its section of
 * BENCHMARKS.md.
 *
 * tclocal runs with --dataplane-workers 2 (TCP listeners also accepted in two
 * forwarder processes); the one-process data plane is a stage beside it.
 *
 *   npm run bench:dataplane -- [--rounds 7] [--seconds 3] [--workers 2] [--only l4,l7,api,scale] [--no-scale] [--no-write]
 *
 * `--only` also takes parts of l4: `conns` (new connections, their CPU and
 * the round-trip latency), `bulk`, `udp`; e.g. `--only conns --no-write`;
 * and of l7, printed per round only (nothing is written): `http` (keep-alive),
 * `https`, `tls` (new TLS connections), `light` (the latency rows).
 */
import { execFileSync, fork, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { captureSdkRequest, cnClient } from '../testkit/sdk';
import { selfSigned } from '../testkit/pem';
import { flag, numberOption, option } from './args';
import { load, WRK_DONE } from './load';
import { DATAPLANE_HEADING, writeSection } from './report';
import { cpuSeconds, freePort, rssMb, startReference, startTclocalProcess, toReplay } from './servers';

const ROUNDS = numberOption('--rounds', 7);
const SECONDS = numberOption('--seconds', 3);
const ONLY = new Set(option('--only', 'l4,l7,api').split(','));
/** The L4 measures taken: all three with `l4`, else those named. */
const L4 = new Set(['bulk', 'conns', 'udp'].filter((m) => ONLY.has('l4') || ONLY.has(m)));
/** The L7 measures taken: all with `l7`, else those named (printed per round, not written). */
const L7 = new Set(['http', 'https', 'tls', 'light'].filter((m) => ONLY.has('l7') || ONLY.has(m)));
/** tclocal's forwarder processes (--dataplane-workers): as many as the reference's threads. */
const WORKERS = numberOption('--workers', 2);
/** The Host tclocal's HTTP rule answers (HAProxy and the stages ignore it). */
const DOMAIN = 'bench.test';

/** Debian packages the benchmark runs, installed when missing (without starting their services). */
function ensurePackages(): void {
  const wanted: Array<[string, string]> = [
    ['haproxy', '/usr/sbin/haproxy'], ['nginx', '/usr/sbin/nginx'], ['libnginx-mod-stream', '/usr/lib/nginx/modules/ngx_stream_module.so'],
    ['iperf3', '/usr/bin/iperf3'], ['wrk', '/usr/bin/wrk'], ['openssl', '/usr/bin/openssl'],
  ];
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
  /** HTTP, and HTTPS where the server terminates TLS. */
  http: number;
  https: number;
}

const tls = selfSigned(DOMAIN, { sans: [DOMAIN] });
const keyFile = join(dir, 'key.pem');
const certFile = join(dir, 'cert.pem');
writeFileSync(keyFile, tls.key);
writeFileSync(certFile, tls.cert);
writeFileSync(join(dir, 'haproxy.pem'), tls.cert + tls.key);

/** Origins: iperf3 for bulk, nginx stream answering `pong` and closing (TCP) or replying `pong` (UDP), nginx answering `ok` to HTTP. */
async function startOrigins(): Promise<Ports> {
  const ports = { iperf: await freePort(), pong: await freePort(), udp: await freePort(), http: await freePort(), https: 0 };
  run('iperf3', ['-s', '-B', '127.0.0.1', '-p', String(ports.iperf)]);
  const conf = join(dir, 'origin-nginx.conf');
  writeFileSync(conf, `load_module /usr/lib/nginx/modules/ngx_stream_module.so;
daemon off; worker_processes 1; pid ${dir}/origin.pid; error_log ${dir}/origin-error.log;
events { worker_connections 4096; }
stream {
  server { listen 127.0.0.1:${ports.pong} reuseport; return "pong"; }
  server { listen 127.0.0.1:${ports.udp} udp; return "pong"; }
}
http {
  access_log off;
  keepalive_requests 100000000;
  keepalive_timeout 300s;
  server { listen 127.0.0.1:${ports.http} reuseport; location / { return 200 "ok\\n"; } }
}
`);
  run('nginx', ['-c', conf, '-p', dir, '-e', `${dir}/origin-error.log`]);
  await waitTcp('127.0.0.1', ports.pong);
  await waitTcp('127.0.0.1', ports.http);
  return ports;
}

/** HAProxy's process (one, with its threads): its CPU time is read per connection and request. */
let haproxyPid = 0;
/** nginx stream's master process (UDP); its workers are its children. */
let nginxProxyPid = 0;
/** A process and its children (nginx's workers). */
function withChildren(pid: number): number[] {
  try {
    return [pid, ...readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number)];
  } catch {
    return [pid];
  }
}

/** HAProxy (TCP, HTTP, HTTPS) and nginx stream (UDP) in front of the same origins, with their default thread/worker counts. */
async function startReferences(o: Ports): Promise<Ports> {
  const ports = { iperf: await freePort(), pong: await freePort(), udp: await freePort(), http: await freePort(), https: await freePort() };
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
frontend web
  mode http
  bind 127.0.0.1:${ports.http}
  bind 127.0.0.1:${ports.https} ssl crt ${dir}/haproxy.pem
  default_backend web
backend web
  mode http
  http-reuse always
  server s 127.0.0.1:${o.http}
`);
  haproxyPid = run('haproxy', ['-f', hcfg, '-db']).pid!;
  const ncfg = join(dir, 'proxy-nginx.conf');
  writeFileSync(ncfg, `load_module /usr/lib/nginx/modules/ngx_stream_module.so;
daemon off; worker_processes auto; pid ${dir}/proxy.pid; error_log ${dir}/proxy-error.log;
events { worker_connections 4096; }
stream {
  server { listen 127.0.0.1:${ports.udp} udp reuseport; proxy_pass 127.0.0.1:${o.udp}; proxy_responses 1; proxy_timeout 120s; }
}
`);
  nginxProxyPid = run('nginx', ['-c', ncfg, '-p', dir, '-e', `${dir}/proxy-error.log`]).pid!;
  // Not the bulk port: iperf3 serves one client at a time, and a probe would be one.
  await waitTcp('127.0.0.1', ports.pong);
  await waitTcp('127.0.0.1', ports.https);
  await pause(200);
  return ports;
}

/** A stage of bench/dataplane-stages in its own process: its two ports. */
/** A stage's process and its listening ports (`c` and `d`: the `relay` stage's HTTP and HTTPS ports). */
interface Stage {
  a: number;
  b: number;
  c?: number;
  d?: number;
  pid: number;
}

async function startStage(mode: string, ports: number[]): Promise<Stage> {
  const child = fork(resolve(__dirname, 'dataplane-stages.js'), [mode, ...ports.map(String)], {
    stdio: 'ignore', env: { ...process.env, BENCH_KEY: keyFile, BENCH_CERT: certFile },
  });
  children.push(child);
  const got = await new Promise<Omit<Stage, 'pid'>>((r) => child.once('message', (m) => r(m as Omit<Stage, 'pid'>)));
  return { ...got, pid: child.pid! };
}

interface Tclocal {
  host: string;
  ports: Ports;
  /** The same TCP exchange through a proxy whose opened security policy judges every connection. */
  acl: { host: string; port: number };
  pid: number;
  /** The main process and its forwarder processes: the CPU they spend together is the proxy's. */
  pids: number[];
  apiPort: number;
}

/** A tclocal proxy with listeners forwarding to the origins, through the API. */
async function startTclocal(o: Ports, workers: number): Promise<Tclocal> {
  const pool = `127.${100 + Math.floor(Math.random() * 100)}.${Math.floor(Math.random() * 256)}.0/24`;
  const t = await startTclocalProcess(['--dataplane-caps', 'off', '--dataplane-workers', String(workers), '--dataplane-pool', pool, '--transition-ms', '0', '--log-level', 'silent']);
  children.push(t.child);
  const c = cnClient('gaap', { port: t.port });
  const newProxy = async () => (await c.CreateProxy({ ProjectId: 0, ProxyName: 'bench', AccessRegion: 'Hongkong', RealServerRegion: 'Beijing', Bandwidth: 1000, Concurrent: 30 })).InstanceId as string;
  const ip = async (proxyId: string) => (await c.DescribeProxies({ ProxyIds: [proxyId] })).ProxySet[0].IP as string;
  const InstanceId = await newProxy();
  const rs = (await c.AddRealServers({ ProjectId: 0, RealServerIP: ['127.0.0.1'], RealServerName: 'o' })).RealServerSet[0].RealServerId;
  const ports = { iperf: await freePort(), pong: await freePort(), udp: await freePort(), http: await freePort(), https: await freePort() };
  const l4 = async (proxyId: string, proto: 'TCP' | 'UDP', port: number, origin: number) => {
    const create = proto === 'TCP' ? c.CreateTCPListeners.bind(c) : c.CreateUDPListeners.bind(c);
    const { ListenerIds } = await create({ ListenerName: `b${port}`, Ports: [port], Scheduler: 'rr', HealthCheck: 0, RealServerType: 'IP', ProxyId: proxyId });
    await c.BindListenerRealServers({ ListenerId: ListenerIds[0], RealServerBindSet: [{ RealServerId: rs, RealServerIP: '127.0.0.1', RealServerPort: origin }] });
  };
  await l4(InstanceId, 'TCP', ports.iperf, o.iperf);
  await l4(InstanceId, 'TCP', ports.pong, o.pong);
  await l4(InstanceId, 'UDP', ports.udp, o.udp);
  const certId = (await c.CreateCertificate({ CertificateType: 2, CertificateContent: tls.cert, CertificateKey: tls.key, CertificateAlias: 'bench' })).CertificateId;
  const { ListenerId: httpL } = await c.CreateHTTPListener({ ProxyId: InstanceId, ListenerName: 'web', Port: ports.http });
  const { ListenerId: httpsL } = await c.CreateHTTPSListener({ ProxyId: InstanceId, ListenerName: 'tls', Port: ports.https, CertificateId: certId, ForwardProtocol: 'HTTP', AuthType: 0 });
  for (const l of [httpL, httpsL]) {
    const { RuleId } = await c.CreateRule({ ListenerId: l, Domain: DOMAIN, Path: '/', RealServerType: 'IP', Scheduler: 'rr', HealthCheck: 0 });
    await c.BindRuleRealServers({ RuleId, RealServerBindSet: [{ RealServerId: rs, RealServerIP: '127.0.0.1', RealServerPort: o.http }] });
  }
  // A second proxy whose policy drops everything but loopback clients: the check runs for every connection.
  const aclProxy = await newProxy();
  const aclPort = await freePort();
  await l4(aclProxy, 'TCP', aclPort, o.pong);
  const { PolicyId } = await c.CreateSecurityPolicy({ ProxyId: aclProxy, DefaultAction: 'DROP' });
  await c.CreateSecurityRules({ PolicyId, RuleList: [
    { SourceCidr: '10.0.0.0/8', Action: 'DROP', Protocol: 'ALL', DestPortRange: 'ALL', AliasName: 'ten' },
    { SourceCidr: '127.0.0.0/8', Action: 'ACCEPT', Protocol: 'TCP', DestPortRange: String(aclPort), AliasName: 'loopback' },
  ] });
  await c.OpenSecurityPolicy({ ProxyId: aclProxy, PolicyId });
  const host = await ip(InstanceId);
  const acl = { host: await ip(aclProxy), port: aclPort };
  await waitTcp(host, ports.pong);
  await waitTcp(host, ports.https);
  await waitTcp(acl.host, acl.port);
  const status = await (await fetch(`http://127.0.0.1:${t.port}/_tclocal/dataplane`)).json() as { workers?: Array<{ pid: number }> };
  const forwarders = (status.workers ?? []).map((w) => w.pid);
  if (forwarders.length !== workers) throw new Error(`tclocal reports ${forwarders.length} forwarder processes, not ${workers}`);
  return { host, ports, acl, pid: t.child.pid!, pids: [t.child.pid!, ...forwarders], apiPort: t.port };
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
async function connectionsPerSecond(host: string, port: number, parallel = 16, seconds = SECONDS): Promise<number> {
  let done = 0;
  const until = Date.now() + seconds * 1000;
  const loop = async () => {
    while (Date.now() < until) {
      await shortConnection(host, port);
      done++;
    }
  };
  await Promise.all(Array.from({ length: parallel }, loop));
  return done / seconds;
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

/** UDP request/reply with `inFlight` outstanding datagrams for `seconds`: replies per second. */
async function udpEcho(host: string, port: number, inFlight = 32, seconds = SECONDS): Promise<number> {
  const sockets = await Promise.all(Array.from({ length: inFlight }, async () => {
    const s = createSocket('udp4');
    await new Promise<void>((r) => s.bind(0, '127.0.0.1', r));
    return s;
  }));
  let replies = 0;
  const until = Date.now() + seconds * 1000;
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
  await pause(seconds * 1000);
  clearInterval(resend);
  for (const s of sockets) s.close();
  return replies / seconds;
}

/**
 * 5,000 listeners on 500 proxies through the API: seconds from the last
 * call's answer until every listener accepts, the RSS growth, and the
 * server's CPU per call. Every listener is then connected to; the time is
 * the server's own record of its last bind (the same clock: one machine),
 * so that the probes' own cost (5,000 connections) is not counted.
 */
async function scale(httpOrigin: number): Promise<{ seconds: number; rssGrowth: number; apiSeconds: number; cpuPerCallMs: number; rule: { few: number[]; many: number[] } }> {
  const pool = `127.${100 + Math.floor(Math.random() * 100)}.0.0/16`;
  const t = await startTclocalProcess(['--dataplane-caps', 'off', '--dataplane-pool', pool, '--transition-ms', '0', '--log-level', 'silent', '--rate-limits', 'off']);
  children.push(t.child);
  await pause(300);
  const rss0 = rssMb(t.child.pid!);
  const cpu0 = cpuSeconds(t.child.pid!);
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
  const apiDoneAt = Date.now();
  const cpuPerCallMs = ((cpuSeconds(t.child.pid!) - cpu0) * 1000) / (proxies.length * 2);
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
    for (let i = 0; i < left.length; i += 500) {
      const chunk = left.slice(i, i + 500);
      const ok = await Promise.all(chunk.map(([ip, port]) => reach(ip, port)));
      chunk.forEach((x, j) => !ok[j] && next.push(x));
    }
    left = next;
    if (left.length > 0) await pause(50);
    if (performance.now() - apiDone > 60_000) throw new Error(`${left.length} listeners unreachable after 60 s`);
  }
  const rss1 = rssMb(t.child.pid!);
  const report = (await (await fetch(`http://127.0.0.1:${t.port}/_tclocal/dataplane`)).json()) as { reconcile: { lastBoundAt: number } };
  const rule = await ruleAmongMany(c, proxies, httpOrigin);
  t.child.kill('SIGTERM');
  // Bound before the last answer: reachable when the calls were done.
  return { seconds: Math.max(0, report.reconcile.lastBoundAt - apiDoneAt) / 1000, rssGrowth: rss1 - rss0, apiSeconds: (apiDone - t0) / 1000, cpuPerCallMs, rule };
}

/**
 * How long a new rule takes to serve, from the answer of its last call
 * (BindRuleRealServers) until a request for its domain reaches the origin:
 * ten rules while the account holds one HTTP listener, and ten more once it
 * holds 1,000 (ten on each of 100 proxies, each with a rule). Milliseconds.
 */
async function ruleAmongMany(c: any, proxies: string[], originPort: number): Promise<{ few: number[]; many: number[] }> {
  const { RealServerSet } = await c.AddRealServers({ ProjectId: 0, RealServerIP: ['127.0.0.1'], RealServerName: 'origin' });
  const rsId = RealServerSet[0].RealServerId;
  const serves = (ip: string, port: number, host: string) => new Promise<boolean>((res) => {
    const s = connect({ host: ip, port }, () => s.end(`GET / HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`));
    let text = '';
    s.on('data', (d) => (text += d));
    s.on('close', () => res(text.startsWith('HTTP/1.1 200')));
    s.on('error', () => undefined);
  });
  const listen = async (proxy: number, port: number) => (await c.CreateHTTPListener({ ProxyId: proxies[proxy], ListenerName: 'h', Port: port })).ListenerId as string;
  let n = 0;
  const rule = async (listenerId: string) => {
    const domain = `r${n++}.bench.test`;
    const { RuleId } = await c.CreateRule({ ListenerId: listenerId, Domain: domain, Path: '/', RealServerType: 'IP', Scheduler: 'rr', HealthCheck: 0 });
    await c.BindRuleRealServers({ RuleId, RealServerBindSet: [{ RealServerId: rsId, RealServerIP: '127.0.0.1', RealServerPort: originPort }] });
    return domain;
  };
  const timeRules = async (listenerId: string, ip: string, port: number) => {
    const ms: number[] = [];
    for (let i = 0; i < 10; i++) {
      const domain = await rule(listenerId);
      const t0 = performance.now();
      while (!(await serves(ip, port, domain))) {
        if (performance.now() - t0 > 10_000) throw new Error(`a rule not served after 10 s (${domain})`);
      }
      ms.push(performance.now() - t0);
    }
    return ms;
  };
  const first = await listen(0, 40000);
  const ip = (await c.DescribeProxies({ ProxyIds: [proxies[0]] })).ProxySet[0].IP as string;
  const bound = await rule(first);
  for (const t0 = performance.now(); !(await serves(ip, 40000, bound)); await pause(10)) {
    if (performance.now() - t0 > 10_000) throw new Error('the first HTTP listener not served after 10 s');
  }
  const few = await timeRules(first, ip, 40000);
  for (let i = 0; i < 100; i += 25) {
    await Promise.all(Array.from({ length: 25 }, async (_, k) => {
      for (let j = 1; j <= 10; j++) await rule(await listen(i + k, 40000 + j));
    }));
  }
  const many = await timeRules(first, ip, 40000);
  return { few, many };
}

interface WrkResult {
  rps: number;
  /** Microseconds. */
  p50: number;
  p99: number;
  errors: number;
  non2xx: number;
}

/** wrk (one thread) against `url` with `connections` for SECONDS, asking for DOMAIN. */
function wrk(url: string, connections: number, extraHeaders: string[] = [], seconds = SECONDS): Promise<WrkResult> {
  const script = join(dir, 'done.lua');
  writeFileSync(script, WRK_DONE);
  const headers = [`Host: ${DOMAIN}`, ...extraHeaders].flatMap((h) => ['-H', h]);
  return new Promise((res, rej) => {
    const child = spawn('wrk', ['-t1', `-c${connections}`, `-d${seconds}s`, '--timeout', '10s', '-s', script, ...headers, url]);
    let text = '';
    child.stdout.on('data', (c) => (text += c));
    child.stderr.on('data', (c) => (text += c));
    child.on('error', rej);
    child.on('close', () => {
      const line = /RESULT (\{.*\})/.exec(text);
      if (!line) return rej(new Error(`wrk printed no result: ${text}`));
      const r = JSON.parse(line[1]);
      res({ rps: r.requests / (r.us / 1e6), p50: r.p50, p99: r.p99, errors: r.errors, non2xx: r.non2xx });
    });
  });
}

/**
 * Light load, as the L7 latency target is stated: one keep-alive connection
 * sending a request every `1000 / rate` ms (the next one waits for the
 * answer, so a slow answer delays only itself); latency per request in µs.
 * wrk has no fixed rate, so a raw socket does it, reading each answer's
 * head for its length (Content-Length or chunked).
 */
function pacedRequests(host: string, port: number, rate = 500, seconds = SECONDS): Promise<{ p50: number; p99: number }> {
  const request = Buffer.from(`GET / HTTP/1.1\r\nHost: ${DOMAIN}\r\n\r\n`);
  const total = Math.round(rate * seconds);
  const out: number[] = [];
  return new Promise((res, rej) => {
    const s = connect({ host, port, noDelay: true });
    let buf = '';
    let sentAt = 0;
    let firstAt = 0;
    const send = () => {
      buf = '';
      sentAt = performance.now();
      s.write(request);
    };
    const complete = (): boolean => {
      const end = buf.indexOf('\r\n\r\n');
      if (end < 0) return false;
      const length = /\r\ncontent-length: *(\d+)/i.exec(buf.slice(0, end));
      return length ? buf.length >= end + 4 + Number(length[1]) : buf.endsWith('\r\n0\r\n\r\n');
    };
    s.setEncoding('latin1');
    s.on('error', rej);
    s.on('data', (chunk: string) => {
      buf += chunk;
      if (!complete()) return;
      out.push((performance.now() - sentAt) * 1000);
      if (out.length >= total) {
        s.destroy();
        const sorted = out.sort((a, b) => a - b);
        return res({ p50: pct(sorted, 50), p99: pct(sorted, 99) });
      }
      const due = firstAt + (out.length * 1000) / rate;
      setTimeout(send, Math.max(0, due - performance.now()));
    });
    s.on('connect', () => {
      firstAt = performance.now();
      send();
    });
  });
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const pct = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))];

/** Per measure, per server: one value per round, in round order. */
const results: Record<string, Record<string, number[]>> = {};
const put = (measure: string, who: string, value: number) => ((results[measure] ??= {})[who] ??= []).push(value);
const series = (measure: string, who: string) => results[measure]?.[who] ?? [];
/** Median of the ratios of values taken in the same round, and their range. */
function ratioOf(measure: string, a: string, b: string): { median: number; min: number; max: number } {
  const xs = series(measure, a);
  const ys = series(measure, b);
  const r = xs.map((x, i) => x / ys[i]).filter((x) => Number.isFinite(x));
  return { median: median(r), min: Math.min(...r), max: Math.max(...r) };
}
/** Order of the servers in round `r`: reversed every other round. */
const ordered = <T>(xs: T[], r: number): T[] => (r % 2 === 0 ? xs : [...xs].reverse());
let wrkErrors = 0;
let wrkNon2xx = 0;

async function l4Rounds(origins: Ports, ref: Ports, tc: Tclocal, single: Tclocal, pipe: Stage, relay: Stage): Promise<Record<string, number[]>> {
  const lat: Record<string, number[]> = {};
  const targets = {
    tclocal: { host: tc.host, pong: tc.ports.pong, iperf: tc.ports.iperf, udp: tc.ports.udp },
    single: { host: single.host, pong: single.ports.pong, iperf: single.ports.iperf, udp: 0 },
    ref: { host: '127.0.0.1', pong: ref.pong, iperf: ref.iperf, udp: ref.udp },
    pipe: { host: '127.0.0.1', pong: pipe.a, iperf: pipe.b, udp: 0 },
    relay: { host: '127.0.0.1', pong: relay.a, iperf: relay.b, udp: 0 },
    acl: { host: tc.acl.host, pong: tc.acl.port, iperf: 0, udp: 0 },
  };
  const pids: Record<string, number[]> = { tclocal: tc.pids, single: single.pids, ref: [haproxyPid], pipe: [pipe.pid], relay: [relay.pid], acl: tc.pids };
  // Warm-up: every path once, unrecorded (the JIT, the origin pools).
  for (const t of Object.values(targets)) {
    await connectionsPerSecond(t.host, t.pong, 16, 1);
    if (t.udp && L4.has('udp')) await udpEcho(t.host, t.udp, 32, 1);
  }
  type Who = keyof typeof targets;
  const names = Object.keys(targets) as Who[];
  for (let r = 0; r < ROUNDS; r++) {
    for (const who of ordered(names, r)) {
      const t = targets[who];
      const cpu = () => pids[who].reduce((sum, pid) => sum + cpuSeconds(pid), 0);
      if (t.iperf && L4.has('bulk')) {
        const cpu0 = cpu();
        const bps = bulk(t.host, t.iperf);
        put('bulk', who, bps);
        // CPU seconds per GB relayed: steadier than the rate on a shared machine.
        put('bulkCpu', who, (cpu() - cpu0) / ((bps * SECONDS) / 8 / 1e9));
      }
      if (L4.has('conns')) {
        const cpu0 = cpu();
        const conns = await connectionsPerSecond(t.host, t.pong);
        put('conns', who, conns);
        // CPU the proxy's processes spent per connection: steadier than throughput on a shared machine.
        put('connCpu', who, ((cpu() - cpu0) / (conns * SECONDS)) * 1e6);
      }
      if (t.udp && L4.has('udp')) {
        // The reference for UDP is nginx stream (its master and workers), not HAProxy.
        const udpPids = who === 'ref' ? withChildren(nginxProxyPid) : pids[who];
        const udpCpu = () => udpPids.reduce((sum, pid) => sum + cpuSeconds(pid), 0);
        const cpu0 = udpCpu();
        const rts = await udpEcho(t.host, t.udp);
        put('udp', who, rts);
        put('udpCpu', who, ((udpCpu() - cpu0) / (rts * SECONDS)) * 1e6);
      }
      const last = (m: string, k = 1, d = 0) => (series(m, who).length > 0 ? (series(m, who).at(-1)! / k).toFixed(d) : '—');
      console.error(`L4 round ${r + 1} ${who}: bulk ${last('bulk', 1e9, 2)} Gbit/s (${last('bulkCpu', 1, 2)} CPU s/GB), ${last('conns')} conn/s (${last('connCpu')} µs CPU each), ${last('udp')} UDP rt/s (${last('udpCpu', 1, 1)} µs CPU each)`);
    }
    if (!L4.has('conns')) continue;
    for (const who of ordered(['direct', ...names], r)) {
      const [host, port] = who === 'direct' ? ['127.0.0.1', origins.pong] : [targets[who as Who].host, targets[who as Who].pong];
      const rts = await roundTrips(host, port, 400);
      (lat[who] ??= []).push(...rts);
      put('rtP50', who, pct(rts, 50));
    }
  }
  return lat;
}

async function l7Rounds(origins: Ports, ref: Ports, tc: Tclocal, answer: Stage, proxy: Stage, undici: Stage, relay: Stage): Promise<void> {
  // tclocal's CPU is its main process's and its forwarders' together.
  const pids: Record<string, number[]> = { tclocal: tc.pids, ref: [haproxyPid], nodeProxy: [proxy.pid], nodeUndici: [undici.pid], nodeAnswer: [answer.pid], nodeRelay: [relay.pid] };
  const cpuOf = (who: string) => pids[who].reduce((sum, pid) => sum + cpuSeconds(pid), 0);
  const targets: Record<string, { host: string; http: number; https: number }> = {
    tclocal: { host: tc.host, http: tc.ports.http, https: tc.ports.https },
    ref: { host: '127.0.0.1', http: ref.http, https: ref.https },
    nodeProxy: { host: '127.0.0.1', http: proxy.a, https: proxy.b },
    nodeUndici: { host: '127.0.0.1', http: undici.a, https: undici.b },
    nodeAnswer: { host: '127.0.0.1', http: answer.a, https: answer.b },
    nodeRelay: { host: '127.0.0.1', http: relay.c!, https: relay.d! },
  };
  const count = (w: WrkResult) => {
    wrkErrors += w.errors;
    wrkNon2xx += w.non2xx;
    return w;
  };
  // Warm-up: every path once, unrecorded.
  for (const t of Object.values(targets)) {
    await wrk(`http://${t.host}:${t.http}/`, 64, [], 1);
    await wrk(`https://${t.host}:${t.https}/`, 64, [], 1);
    if (L7.has('tls')) await wrk(`https://${t.host}:${t.https}/`, 16, ['Connection: close'], 1);
  }
  // Of tclocal's CPU, the main process's share (with forwarders it only holds the sockets: this shows it stays small).
  const mainCpu = () => cpuSeconds(tc.pids[0]);
  const none = { rps: NaN, errors: 0, non2xx: 0 } as WrkResult;
  for (let r = 0; r < ROUNDS; r++) {
    for (const who of ordered(Object.keys(targets), r)) {
      const t = targets[who];
      const cpu0 = cpuOf(who);
      const http = L7.has('http') ? count(await wrk(`http://${t.host}:${t.http}/`, 64)) : none;
      if (L7.has('http')) put('httpCpu', who, ((cpuOf(who) - cpu0) / (http.rps * SECONDS)) * 1e6);
      const https = L7.has('https') ? count(await wrk(`https://${t.host}:${t.https}/`, 64)) : none;
      const [cpu1, main1] = [cpuOf(who), mainCpu()];
      const fresh = L7.has('tls') ? count(await wrk(`https://${t.host}:${t.https}/`, 16, ['Connection: close'])) : none;
      if (L7.has('tls')) {
        put('tlsNewCpu', who, ((cpuOf(who) - cpu1) / (fresh.rps * SECONDS)) * 1e6);
        if (who === 'tclocal') put('tlsNewMainCpu', who, ((mainCpu() - main1) / (fresh.rps * SECONDS)) * 1e6);
      }
      if (L7.has('http')) put('http', who, http.rps);
      if (L7.has('https')) put('https', who, https.rps);
      if (L7.has('tls')) put('tlsNew', who, fresh.rps);
      if (who === 'tclocal') {
        put('httpErrors', who, http.errors + http.non2xx + https.errors + https.non2xx);
      }
      if (!L7.has('http') && !L7.has('https') && !L7.has('tls')) continue;
      const tlsCpu = L7.has('tls') ? ` (${series('tlsNewCpu', who).at(-1)!.toFixed(0)} µs CPU each${who === 'tclocal' ? `, ${series('tlsNewMainCpu', who).at(-1)!.toFixed(0)} of them in the main process` : ''})` : '';
      console.error(`L7 round ${r + 1} ${who}: ${http.rps.toFixed(0)} HTTP req/s, ${https.rps.toFixed(0)} HTTPS req/s, ${fresh.rps.toFixed(0)} new TLS conn/s${tlsCpu}`);
    }
    if (!L7.has('light')) continue;
    for (const who of ordered(['direct', ...Object.keys(targets)], r)) {
      const [host, port] = who === 'direct' ? ['127.0.0.1', origins.http] : [targets[who].host, targets[who].http];
      const one = count(await wrk(`http://${host}:${port}/`, 1));
      put('httpP99', who, one.p99);
      put('httpP50', who, one.p50);
      const light = await pacedRequests(host, port);
      put('httpLightP99', who, light.p99);
      put('httpLightP50', who, light.p50);
    }
  }
}

/** The signed catalogue read of `npm run bench`, against tclocal and the HMAC-chain server, idle and while iperf3 streams through tclocal's data plane (or through HAProxy, for the reference). */
async function apiRounds(tc: Tclocal, ref: Ports): Promise<void> {
  const request = toReplay(await captureSdkRequest((port) => cnClient('gaap', { port }).DescribeAccessRegions({})));
  const answer = await fetch(`http://127.0.0.1:${tc.apiPort}${request.path}`, { method: request.method, headers: request.headers, body: request.body });
  const hmac = await startReference('hmac', Buffer.from(await answer.arrayBuffer()));
  try {
    const servers = { tclocal: { api: tc.apiPort, host: tc.host, iperf: tc.ports.iperf }, hmac: { api: hmac.port, host: '127.0.0.1', iperf: ref.iperf } };
    for (let r = 0; r < ROUNDS; r++) {
      for (const who of ordered(['tclocal', 'hmac'] as const, r)) {
        const s = servers[who];
        const idle = await load(s.api, [request], SECONDS, 64);
        put('apiIdle', who, idle.rps);
        // The bulk stream starts first and outlasts the load.
        const stream = spawn('iperf3', ['-c', s.host, '-p', String(s.iperf), '-t', String(SECONDS + 2), '-J'], { stdio: ['ignore', 'pipe', 'ignore'] });
        let out = '';
        stream.stdout.on('data', (c) => (out += c));
        const ended = new Promise((res) => stream.once('close', res));
        await pause(700);
        const busy = await load(s.api, [request], SECONDS, 64);
        await ended;
        put('apiBusy', who, busy.rps);
        put('apiBusyP99', who, busy.p99);
        put('apiIdleP99', who, idle.p99);
        put('apiErrors', who, idle.errors + idle.non2xx + busy.errors + busy.non2xx);
        try {
          put('apiBulk', who, JSON.parse(out).end.sum_received.bits_per_second);
        } catch {
          put('apiBulk', who, 0);
        }
        console.error(`API round ${r + 1} ${who}: ${idle.rps.toFixed(0)} req/s idle, ${busy.rps.toFixed(0)} req/s with ${(series('apiBulk', who).at(-1)! / 1e9).toFixed(2)} Gbit/s flowing`);
      }
    }
  } finally {
    hmac.stop();
  }
}

async function main(): Promise<void> {
  ensurePackages();
  const load0 = loadavg()[0];
  const origins = await startOrigins();
  console.error('origins up');
  const ref = await startReferences(origins);
  console.error('HAProxy and nginx up');
  const tc = await startTclocal(origins, WORKERS);
  console.error(`tclocal forwarding on ${tc.host} (${WORKERS} forwarder processes)`);
  // The one-process data plane as a stage: what the forwarder processes bring.
  const single = L4.size > 0 ? await startTclocal(origins, 0) : undefined;
  const pipe = await startStage('pipe', [origins.pong, origins.iperf]);
  const answer = await startStage('http-answer', []);
  const nodeProxy = await startStage('http-proxy', [origins.http]);
  const nodeUndici = await startStage('undici-proxy', [origins.http]);
  const relay = await startStage('relay', [origins.pong, origins.iperf, origins.http]);
  const started = Date.now();
  const lat = single ? await l4Rounds(origins, ref, tc, single, pipe, relay) : undefined;
  if (L7.size > 0) await l7Rounds(origins, ref, tc, answer, nodeProxy, nodeUndici, relay);
  if (ONLY.has('api')) await apiRounds(tc, ref);
  const minutes = (Date.now() - started) / 60000;
  const load1 = loadavg()[0];
  const sc = flag('--no-scale') || !(ONLY.has('l4') || ONLY.has('scale')) ? undefined : await scale(origins.http);
  if (sc) console.error(`5,000 listeners: bound ${sc.seconds.toFixed(2)} s after the API calls (${sc.apiSeconds.toFixed(1)} s, ${sc.cpuPerCallMs.toFixed(2)} ms server CPU per call), RSS +${sc.rssGrowth.toFixed(0)} MB; a new rule served ${sc.rule.few.map((x) => x.toFixed(1)).join(' ')} ms after its answer among 1 HTTP listener, ${sc.rule.many.map((x) => x.toFixed(1)).join(' ')} among 1,001`);
  await stopAll();
  rmSync(dir, { recursive: true, force: true });

  const f = (n: number, d = 0) => n.toFixed(d);
  const met = (ok: boolean) => (ok ? 'met' : '**NOT met**');
  const range = (xs: number[], d = 0, k = 1) => `${f(Math.min(...xs) / k, d)}–${f(Math.max(...xs) / k, d)}`;
  /** `median (min–max)` of a server's rounds. */
  const cell = (m: string, who: string, d = 0, k = 1) => `${f(median(series(m, who)) / k, d)} (${range(series(m, who), d, k)})`;
  const ratioCell = (m: string, a: string, b: string) => {
    const r = ratioOf(m, a, b);
    return `**${f(r.median, 2)}×** (${f(r.min, 2)}–${f(r.max, 2)})`;
  };
  /** One server's measure `a` over its measure `b` in the same round. */
  const selfRatio = (a: string, b: string, who: string) => {
    const xs = series(a, who).map((x, i) => x / series(b, who)[i]);
    return `**${f(median(xs), 2)}×** (${f(Math.min(...xs), 2)}–${f(Math.max(...xs), 2)})`;
  };
  const p99 = (xs: number[]) => pct([...xs].sort((a, b) => a - b), 99);
  const section = [
    `## ${DATAPLANE_HEADING}`,
    '',
    `Measured by \`npm run bench:dataplane\` (bench/dataplane.ts, stages in bench/dataplane-stages.ts). Last run: ${new Date().toISOString().slice(0, 10)}, ${cpus().length} cores (${cpus()[0]?.model ?? 'unknown'}), Node ${process.version}, ${f(minutes, 1)} minutes of rounds; load average ${f(load0, 1)} at the start and ${f(load1, 1)} at the end (the benchmark's own processes count: about 2 while it runs)${Math.max(load0, load1) > 4 ? ', **so taken under load from other work**: absolute figures move a lot between rounds' : ''}; read the ratios of servers measured in the same round.`,
    `tclocal (\`--dataplane-caps off\`) against HAProxy ${version('haproxy', ['-v'])} (TCP, HTTP, HTTPS) and nginx ${version('nginx', ['-v'])} stream (UDP), both with their default thread/worker counts (two on this machine); tclocal with \`--dataplane-workers ${WORKERS}\` (TCP, HTTP and HTTPS listeners accepted in ${WORKERS} forwarder processes besides the main process; UDP in the main process, on one thread), on the same machine, ${ROUNDS} rounds of ${SECONDS} s per measure and server, the servers' order reversed every other round. Origins: iperf3 for bulk, an nginx stream \`return\` server for short TCP exchanges and UDP replies, nginx \`return 200\` (3 bytes) for HTTP. Cells: median of the rounds (lowest–highest); ratios: median of the ratios of the same round (lowest–highest).`,
    '',
  ];
  if (lat) {
    const has = (m: string) => series(m, 'ref').length > 0;
    const latency = lat.direct !== undefined;
    const added = (who: string) => p99(lat[who]) - p99(lat.direct);
    const addedCell = (who: string) => (latency ? `+${f(added(who) * 1000)} µs` : '—');
    /** A stage's cell for a measure taken in this run, else a dash. */
    const maybe = (m: string, who: string, d = 0, k = 1) => (has(m) ? cell(m, who, d, k) : '—');
    const maybeRatio = (label: string, m: string, a: string, b: string) => (has(m) ? `${label}${ratioCell(m, a, b)}` : '');
    section.push(
      '| Measure | tclocal | reference | ratio | target |',
      '|---|---|---|---|---|',
      ...(has('bulk') ? [`| one TCP stream, bulk (iperf3), Gbit/s | ${cell('bulk', 'tclocal', 2, 1e9)} | ${cell('bulk', 'ref', 2, 1e9)} (HAProxy) | ${ratioCell('bulk', 'tclocal', 'ref')} | ≥ 0.9× — ${met(ratioOf('bulk', 'tclocal', 'ref').median >= 0.9)} |`] : []),
      ...(has('conns') ? [`| new TCP connections/s (connect, one answer, close; 16 in parallel) | ${cell('conns', 'tclocal')} | ${cell('conns', 'ref')} (HAProxy) | ${ratioCell('conns', 'tclocal', 'ref')} | ≥ 0.8× — ${met(ratioOf('conns', 'tclocal', 'ref').median >= 0.8)} |`] : []),
      ...(has('udp') ? [`| UDP request/reply round trips/s (32 in flight) | ${cell('udp', 'tclocal')} | ${cell('udp', 'ref')} (nginx) | ${ratioCell('udp', 'tclocal', 'ref')} | ≥ 1.0× — ${met(ratioOf('udp', 'tclocal', 'ref').median >= 1)} |`, `| same: the proxy's CPU per round trip, µs (steadier than the rate on a shared machine) | ${cell('udpCpu', 'tclocal', 1)} | ${cell('udpCpu', 'ref', 1)} (nginx) | ${ratioCell('udpCpu', 'tclocal', 'ref')} | — |`] : []),
      ...(latency ? [`| added latency of one connection's round trip (connect, answer, close), p99 over ${lat.tclocal.length} (direct: p99 ${f(p99(lat.direct) * 1000)} µs, p50 ${f(median(series('rtP50', 'direct')) * 1000)} µs) | +${f(added('tclocal') * 1000)} µs | +${f(added('ref') * 1000)} µs (HAProxy) | — | ≤ HAProxy + 100 µs — ${met(added('tclocal') <= added('ref') + 0.1)} |`,
        `| same, p50 (median of the rounds' p50) | +${f((median(series('rtP50', 'tclocal')) - median(series('rtP50', 'direct'))) * 1000)} µs | +${f((median(series('rtP50', 'ref')) - median(series('rtP50', 'direct'))) * 1000)} µs (HAProxy) | — | — |`] : []),
      ...(sc ? [`| 5,000 TCP listeners on 500 proxies: reachable after the API calls (calls took ${f(sc.apiSeconds, 1)} s, ${f(sc.cpuPerCallMs, 2)} ms of server CPU per call; the time of the last bind, each listener then connected to) | ${f(sc.seconds, 2)} s | — | — | ≤ 5 s — ${met(sc.seconds <= 5)} |`,
        `| same: RSS growth | ${f(sc.rssGrowth)} MB | — | — | ≤ 150 MB — ${met(sc.rssGrowth <= 150)} |`,
        `| a new HTTP rule (CreateRule, BindRuleRealServers) serving its domain, ms after the last answer: the account with 1 HTTP listener / with 1,001 (10 rules each, median (max)) | ${f(median(sc.rule.few), 1)} (${f(Math.max(...sc.rule.few), 1)}) / ${f(median(sc.rule.many), 1)} (${f(Math.max(...sc.rule.many), 1)}) | — | — | ≤ 100 ms (changes reach new connections) — ${met(Math.max(...sc.rule.few, ...sc.rule.many) <= 100)} |`] : []),
      '',
      'L4 stages, same rounds (what each part costs):',
      '',
      '| Server | bulk Gbit/s | proxy CPU s per GB | new connections/s | vs HAProxy | proxy CPU per connection, µs | round trip p99 added |',
      '|---|---|---|---|---|---|---|',
      `| HAProxy (two threads) | ${maybe('bulk', 'ref', 2, 1e9)} | ${maybe('bulkCpu', 'ref', 2)} | ${maybe('conns', 'ref')} | — | ${maybe('connCpu', 'ref')} | ${addedCell('ref')} |`,
      `| bare \`socket.pipe\` Node proxy (no policy, scheduling or counters) | ${maybe('bulk', 'pipe', 2, 1e9)} | ${maybe('bulkCpu', 'pipe', 2)} | ${maybe('conns', 'pipe')} | ${[maybeRatio('bulk ', 'bulk', 'pipe', 'ref'), maybeRatio('connections ', 'conns', 'pipe', 'ref')].filter(Boolean).join(', ')} | ${maybe('connCpu', 'pipe')} | ${addedCell('pipe')} |`,
      `| tclocal's raw-handle relay alone, one process (no accept turns, policy, scheduling or counters: the least a Node proxy does per connection) | ${maybe('bulk', 'relay', 2, 1e9)} | ${maybe('bulkCpu', 'relay', 2)} | ${maybe('conns', 'relay')} | ${[maybeRatio('bulk ', 'bulk', 'relay', 'ref'), maybeRatio('connections ', 'conns', 'relay', 'ref')].filter(Boolean).join(', ')} | ${maybe('connCpu', 'relay')} | ${addedCell('relay')} |`,
      `| tclocal, caps off, one process (\`--dataplane-workers 0\`) | ${maybe('bulk', 'single', 2, 1e9)} | ${maybe('bulkCpu', 'single', 2)} | ${maybe('conns', 'single')} | ${[maybeRatio('bulk ', 'bulk', 'single', 'ref'), maybeRatio('connections ', 'conns', 'single', 'ref')].filter(Boolean).join(', ')} | ${maybe('connCpu', 'single')} | ${addedCell('single')} |`,
      `| tclocal, caps off, \`--dataplane-workers ${WORKERS}\` (CPU: main process and forwarders together) | ${maybe('bulk', 'tclocal', 2, 1e9)} | ${maybe('bulkCpu', 'tclocal', 2)} | ${maybe('conns', 'tclocal')} | ${[maybeRatio('bulk ', 'bulk', 'tclocal', 'ref'), maybeRatio('connections ', 'conns', 'tclocal', 'ref')].filter(Boolean).join(', ')}${maybeRatio('; vs one process ', 'conns', 'tclocal', 'single')} | ${maybe('connCpu', 'tclocal')} | ${addedCell('tclocal')} |`,
      ...(has('conns') ? [`| tclocal, caps off, through a proxy with an opened security policy (2 rules, the second accepts) | — | — | ${cell('conns', 'acl')} | connections ${ratioCell('conns', 'acl', 'ref')}; vs tclocal without ${ratioCell('conns', 'acl', 'tclocal')} | ${cell('connCpu', 'acl')} | ${addedCell('acl')} |`] : []),
      `| tclocal vs its relay alone | — | ${has('bulkCpu') ? ratioCell('bulkCpu', 'tclocal', 'relay') : '—'} | — | ${[maybeRatio('bulk ', 'bulk', 'tclocal', 'relay'), maybeRatio('connections ', 'conns', 'tclocal', 'relay')].filter(Boolean).join(', ')} | ${has('connCpu') ? ratioCell('connCpu', 'tclocal', 'relay') : '—'} | — |`,
      `| tclocal vs the bare pipe | — | ${has('bulkCpu') ? ratioCell('bulkCpu', 'tclocal', 'pipe') : '—'} | — | ${[maybeRatio('bulk ', 'bulk', 'tclocal', 'pipe'), maybeRatio('connections ', 'conns', 'tclocal', 'pipe')].filter(Boolean).join(', ')} | ${has('connCpu') ? ratioCell('connCpu', 'tclocal', 'pipe') : '—'} | — |`,
      '',
    );
  }
  if (L7.size > 0) {
    const addedHttp = (who: string, key = 'httpP99') => median(series(key, who).map((x, i) => x - series(key, 'direct')[i]));
    const addedLight = (who: string) => addedHttp(who, 'httpLightP99');
    // With `--only`, the rows of measures not taken are left out, and the stages' cells show a dash.
    const taken = (m: string) => series(m, 'ref').length > 0;
    const l7Cell = (m: string, who: string) => (taken(m) ? cell(m, who) : '—');
    const l7Ratio = (m: string, who: string) => (taken(m) ? ratioCell(m, who, 'ref') : '—');
    section.push(
      '| L7 measure | tclocal | HAProxy | ratio | target |',
      '|---|---|---|---|---|',
      ...(taken('http') ? [`| HTTP requests/s, 64 keep-alive connections (wrk, one thread) | ${cell('http', 'tclocal')} | ${cell('http', 'ref')} | ${ratioCell('http', 'tclocal', 'ref')} | ≥ 0.5× — ${met(ratioOf('http', 'tclocal', 'ref').median >= 0.5)} |`] : []),
      ...(taken('https') ? [`| HTTPS requests/s (TLS 1.3 at the proxy, HTTP to the origin), 64 keep-alive connections | ${cell('https', 'tclocal')} | ${cell('https', 'ref')} | ${ratioCell('https', 'tclocal', 'ref')} | ≥ 0.5× — ${met(ratioOf('https', 'tclocal', 'ref').median >= 0.5)} |`] : []),
      ...(taken('tlsNew') ? [`| new TLS connections/s (one request each, \`Connection: close\`, 16 in parallel; EC P-256 certificate) | ${cell('tlsNew', 'tclocal')} | ${cell('tlsNew', 'ref')} | ${ratioCell('tlsNew', 'tclocal', 'ref')} | ≥ 0.5× — ${met(ratioOf('tlsNew', 'tclocal', 'ref').median >= 0.5)} |`] : []),
      ...(taken('httpLightP99') ? [
        `| added latency, p99, at light load: one keep-alive connection, 500 requests/s (direct to nginx: p99 ${f(median(series('httpLightP99', 'direct')))} µs, p50 ${f(median(series('httpLightP50', 'direct')))} µs) | +${f(addedLight('tclocal'))} µs | +${f(addedLight('ref'))} µs | — | ≤ HAProxy + 300 µs — ${met(addedLight('tclocal') <= addedLight('ref') + 300)} |`,
        `| same, p50 | +${f(median(series('httpLightP50', 'tclocal').map((x, i) => x - series('httpLightP50', 'direct')[i])))} µs | +${f(median(series('httpLightP50', 'ref').map((x, i) => x - series('httpLightP50', 'direct')[i])))} µs | — | — |`,
        `| added latency, p99, one keep-alive connection at full speed (wrk, one connection: the proxy is busy most of the time; direct to nginx: p99 ${f(median(series('httpP99', 'direct')))} µs, p50 ${f(median(series('httpP50', 'direct')))} µs) | +${f(addedHttp('tclocal'))} µs | +${f(addedHttp('ref'))} µs | — | — |`,
      ] : []),
      '',
      `L7 stages, same rounds (errors and non-2xx answers over all wrk runs: ${wrkErrors}/${wrkNon2xx}):`,
      '',
      '| Server | HTTP req/s | HTTPS req/s | new TLS conn/s | vs HAProxy (HTTP / HTTPS / new TLS) | CPU µs per HTTP request / per new TLS connection | p99 added, light load / one connection at full speed |',
      '|---|---|---|---|---|---|---|',
      ...[['nodeAnswer', 'Node `http`/`https` server answering by itself (no proxying: the ceiling of Node\'s HTTP stack here)'], ['nodeProxy', 'plain Node proxy (`http.request`, keep-alive agent, no routing)'], ['nodeUndici', 'Node proxy on an undici pool (`dispatch`, no routing: tclocal\'s origin client alone)'], ['nodeRelay', 'Node relaying bytes, no HTTP parsing (HTTP: tclocal\'s raw-handle TCP relay alone; HTTPS: Node\'s TLS server piped to the origin): what any proxy on Node could reach here at best'], ['tclocal', 'tclocal, caps off'], ['ref', 'HAProxy']].map(([who, name]) =>
        `| ${name} | ${l7Cell('http', who)} | ${l7Cell('https', who)} | ${l7Cell('tlsNew', who)} | ${l7Ratio('http', who)} / ${l7Ratio('https', who)} / ${l7Ratio('tlsNew', who)} | ${l7Cell('httpCpu', who)} / ${l7Cell('tlsNewCpu', who)} | ${taken('httpLightP99') ? `+${f(addedLight(who))} / +${f(addedHttp(who))} µs` : '—'} |`),
      '',
    );
  }
  if (ONLY.has('api')) {
    section.push(
      'The API while traffic flows: the signed catalogue read of `npm run bench` (64 connections, wrk) against tclocal and the HMAC-chain server, idle and while one iperf3 stream runs (through tclocal\'s data plane for tclocal, through HAProxy for the reference, so both share the machine with a bulk transfer):',
      '',
      '| Measure | tclocal | HMAC-chain server | ratio |',
      '|---|---|---|---|',
      `| signed reads/s, idle | ${cell('apiIdle', 'tclocal')} | ${cell('apiIdle', 'hmac')} | ${ratioCell('apiIdle', 'tclocal', 'hmac')} |`,
      `| signed reads/s, bulk transfer running | ${cell('apiBusy', 'tclocal')} | ${cell('apiBusy', 'hmac')} | ${ratioCell('apiBusy', 'tclocal', 'hmac')} |`,
      `| p99 ms, idle / bulk running | ${f(median(series('apiIdleP99', 'tclocal')), 1)} / ${f(median(series('apiBusyP99', 'tclocal')), 1)} | ${f(median(series('apiIdleP99', 'hmac')), 1)} / ${f(median(series('apiBusyP99', 'hmac')), 1)} | — |`,
      `| the bulk stream meanwhile, Gbit/s | ${cell('apiBulk', 'tclocal', 2, 1e9)} | ${cell('apiBulk', 'hmac', 2, 1e9)} (through HAProxy) | — |`,
      `| tclocal's reads with the bulk running / idle, same round | ${selfRatio('apiBusy', 'apiIdle', 'tclocal')} | ${selfRatio('apiBusy', 'apiIdle', 'hmac')} | — |`,
      `Errors or non-2xx answers of the API: ${series('apiErrors', 'tclocal').reduce((a, b) => a + b, 0)}.`,
      '',
    );
  }
  section.push('The load generators (wrk, iperf3, and Node loops for the short TCP exchanges and UDP) run on the same two cores, so they share the CPU with the proxy they measure.', '');
  // A run of some L7 measures only has no complete section to write.
  const partialL7 = L7.size > 0 && !ONLY.has('l7');
  if (!flag('--no-write') && !partialL7) writeSection(DATAPLANE_HEADING, section.join('\n'));
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
