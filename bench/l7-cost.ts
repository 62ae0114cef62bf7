/**
 * `npm run bench:l7-cost`: the CPU tclocal's process spends per HTTP
 * request (64 keep-alive connections), per HTTPS request (keep-alive) and
 * per new TLS connection (one request each, `Connection: close`), against
 * two plain Node proxies from bench/dataplane-stages.ts (`http.request`
 * with a keep-alive agent; an undici pool with `dispatch`, tclocal's origin
 * client without routing) in the same run, alternating rounds. CPU per
 * operation, read from /proc, holds on a loaded machine where rates do not.
 * Both forward to Node's HTTP server answering `ok` in a process of its own.
 * Prints the medians; writes nothing. `--cpu-prof DIR` writes a CPU
 * profile of tclocal's process there when it stops; `--against` adds
 * another checkout's build of tclocal to the rounds (as bench:compare
 * takes it), to compare a change with what it replaces.
 *
 * `--node-flags "<flags>"` adds this build run with those Node flags after
 * tclocal's own (a later flag wins), to measure a runtime setting.
 *
 *   npm run bench:l7-cost -- [--rounds 5] [--seconds 3] [--cpu-prof DIR] [--against <checkout with a built dist/>] [--node-flags "<flags>"]
 */
import { fork, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { selfSigned } from '../testkit/pem';
import { cnClient } from '../testkit/sdk';
import { numberOption, option } from './args';
import { WRK_DONE } from './load';
import { cpuSeconds, startTclocalProcess } from './servers';

const ROUNDS = numberOption('--rounds', 5);
const SECONDS = numberOption('--seconds', 3);
const DOMAIN = 'bench.test';
const PROFILE_DIR = option('--cpu-prof', '');
const AGAINST = option('--against', '');
const NODE_FLAGS_TRIED = option('--node-flags', '').split(' ').filter(Boolean);

const dir = mkdtempSync(join(tmpdir(), 'tclocal-bench-l7-'));
const children: ChildProcess[] = [];
const tls = selfSigned(DOMAIN, { sans: [DOMAIN] });
writeFileSync(join(dir, 'key.pem'), tls.key);
writeFileSync(join(dir, 'cert.pem'), tls.cert);
writeFileSync(join(dir, 'done.lua'), WRK_DONE);

async function stage(mode: string, ports: number[]): Promise<{ a: number; b: number; pid: number }> {
  const child = fork(resolve(__dirname, 'dataplane-stages.js'), [mode, ...ports.map(String)], {
    stdio: 'ignore', env: { ...process.env, BENCH_KEY: join(dir, 'key.pem'), BENCH_CERT: join(dir, 'cert.pem') },
  });
  children.push(child);
  const got = await new Promise<{ a: number; b: number }>((r) => child.once('message', (m) => r(m as { a: number; b: number })));
  return { ...got, pid: child.pid! };
}

/** wrk (one thread) for SECONDS: requests done, and the errors and non-2xx answers. */
function wrk(url: string, connections: number, extra: string[] = [], seconds = SECONDS): Promise<{ requests: number; bad: number }> {
  const headers = [`Host: ${DOMAIN}`, ...extra].flatMap((h) => ['-H', h]);
  return new Promise((res, rej) => {
    const child = spawn('wrk', ['-t1', `-c${connections}`, `-d${seconds}s`, '--timeout', '10s', '-s', join(dir, 'done.lua'), ...headers, url]);
    let text = '';
    child.stdout.on('data', (c) => (text += c));
    child.on('error', rej);
    child.on('close', () => {
      const line = /RESULT (\{.*\})/.exec(text);
      if (!line) return rej(new Error(`wrk printed no result: ${text}`));
      const r = JSON.parse(line[1]);
      res({ requests: r.requests, bad: r.errors + r.non2xx });
    });
  });
}

/** tclocal (caps off) with an HTTP and an HTTPS listener, each with one rule to the origin. */
async function startTclocal(origin: number, cli?: string, nodeFlags: string[] = []): Promise<{ host: string; http: number; https: number; pid: number }> {
  const pool = `127.${100 + Math.floor(Math.random() * 100)}.${Math.floor(Math.random() * 256)}.0/24`;
  const t = await startTclocalProcess(['--dataplane-caps', 'off', '--dataplane-pool', pool, '--transition-ms', '0', '--log-level', 'silent'], cli, [...(PROFILE_DIR ? ['--cpu-prof', '--cpu-prof-dir', PROFILE_DIR] : []), ...nodeFlags]);
  children.push(t.child);
  const c = cnClient('gaap', { port: t.port });
  const { InstanceId } = await c.CreateProxy({ ProjectId: 0, ProxyName: 'bench', AccessRegion: 'Hongkong', RealServerRegion: 'Beijing', Bandwidth: 1000, Concurrent: 30 });
  const rs = (await c.AddRealServers({ ProjectId: 0, RealServerIP: ['127.0.0.1'], RealServerName: 'o' })).RealServerSet[0].RealServerId;
  const certId = (await c.CreateCertificate({ CertificateType: 2, CertificateContent: tls.cert, CertificateKey: tls.key, CertificateAlias: 'bench' })).CertificateId;
  const { ListenerId: httpL } = await c.CreateHTTPListener({ ProxyId: InstanceId, ListenerName: 'web', Port: 8080 });
  const { ListenerId: httpsL } = await c.CreateHTTPSListener({ ProxyId: InstanceId, ListenerName: 'tls', Port: 8443, CertificateId: certId, ForwardProtocol: 'HTTP', AuthType: 0 });
  for (const l of [httpL, httpsL]) {
    const { RuleId } = await c.CreateRule({ ListenerId: l, Domain: DOMAIN, Path: '/', RealServerType: 'IP', Scheduler: 'rr', HealthCheck: 0 });
    await c.BindRuleRealServers({ RuleId, RealServerBindSet: [{ RealServerId: rs, RealServerIP: '127.0.0.1', RealServerPort: origin }] });
  }
  const host = (await c.DescribeProxies({ ProxyIds: [InstanceId] })).ProxySet[0].IP as string;
  for (let i = 0; i < 200; i++) {
    const bound = await fetch(`http://127.0.0.1:${t.port}/_tclocal/dataplane`).then((r) => r.json()) as any;
    const listeners = bound.accounts.flatMap((a: any) => a.proxies.flatMap((p: any) => p.listeners));
    const port = (id: string) => listeners.find((l: any) => l.listenerId === id)?.bound?.port as number | undefined;
    const [http, https] = [port(httpL), port(httpsL)];
    if (http && https) return { host, http, https, pid: t.child.pid! };
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('the listeners were not bound');
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function main(): Promise<void> {
  const origin = await stage('http-answer', []);
  const plain = await stage('http-proxy', [origin.a]);
  const undici = await stage('undici-proxy', [origin.a]);
  const tc = await startTclocal(origin.a);
  const targets: Record<string, { host: string; http: number; https: number; pid: number }> = {
    tclocal: tc,
    'plain Node proxy': { host: '127.0.0.1', http: plain.a, https: plain.b, pid: plain.pid },
    'Node proxy on an undici pool': { host: '127.0.0.1', http: undici.a, https: undici.b, pid: undici.pid },
  };
  if (AGAINST) targets[`tclocal at ${AGAINST}`] = await startTclocal(origin.a, resolve(AGAINST, 'dist/src/cli.js'));
  if (NODE_FLAGS_TRIED.length > 0) targets[`tclocal with ${NODE_FLAGS_TRIED.join(' ')}`] = await startTclocal(origin.a, undefined, NODE_FLAGS_TRIED);
  const cpu: Record<string, Record<string, number[]>> = {};
  const put = (who: string, what: string, v: number) => ((cpu[who] ??= {})[what] ??= []).push(v);
  let bad = 0;
  /** µs of the server's CPU per operation of `run`. */
  const measure = async (who: string, what: string, run: () => Promise<{ requests: number; bad: number }>) => {
    const before = cpuSeconds(targets[who].pid);
    const r = await run();
    bad += r.bad;
    put(who, what, ((cpuSeconds(targets[who].pid) - before) / r.requests) * 1e6);
  };
  for (const t of Object.values(targets)) {
    await wrk(`http://${t.host}:${t.http}/`, 64, [], 1);
    await wrk(`https://${t.host}:${t.https}/`, 16, ['Connection: close'], 1);
  }
  const names = Object.keys(targets);
  for (let r = 0; r < ROUNDS; r++) {
    for (const who of r % 2 === 0 ? names : [...names].reverse()) {
      const t = targets[who];
      await measure(who, 'http', () => wrk(`http://${t.host}:${t.http}/`, 64));
      await measure(who, 'https', () => wrk(`https://${t.host}:${t.https}/`, 64));
      await measure(who, 'tlsNew', () => wrk(`https://${t.host}:${t.https}/`, 16, ['Connection: close']));
      console.error(`round ${r + 1} ${who}: ${['http', 'https', 'tlsNew'].map((m) => cpu[who][m].at(-1)!.toFixed(0)).join(' / ')} µs`);
    }
  }
  console.log(`CPU µs per operation, median of ${ROUNDS} rounds of ${SECONDS} s (wrk errors and non-2xx: ${bad})`);
  console.log('| Server | per HTTP request | per HTTPS request (keep-alive) | per new TLS connection |');
  console.log('|---|---|---|---|');
  for (const who of names) console.log(`| ${who} | ${['http', 'https', 'tlsNew'].map((m) => median(cpu[who][m]).toFixed(0)).join(' | ')} |`);
}

main()
  .catch((err) => {
    console.error(err);
    process.exitCode = 1;
  })
  .finally(() => {
    for (const c of children) c.kill('SIGTERM');
    rmSync(dir, { recursive: true, force: true });
  });
