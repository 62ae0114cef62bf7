/**
 * DNS benchmark (npm run bench:dns): tclocal's DNS server against dnsmasq
 * serving the same names with the same answers, in one run, in alternating
 * rounds. The load comes from dnsperf when it can be had (Debian package;
 * installed here when missing and running as root), else from a small
 * UDP load generator in Node (bench/dns-load.ts), and the report says which.
 * The ratio is written to the DNS section of BENCHMARKS.md.
 *
 *   npm run bench:dns -- [--seconds 5] [--rounds 5] [--proxies 50] [--no-write]
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { cnClient } from '../testkit/sdk';
import { flag, numberOption } from './args';
import { udpLoad } from './dns-load';
import { DNS_HEADING, writeSection } from './report';
import { freePort, startTclocalProcess } from './servers';

const SECONDS = numberOption('--seconds', 5);
const ROUNDS = numberOption('--rounds', 5);
const PROXIES = Math.min(numberOption('--proxies', 50), 96);

const has = (cmd: string) => !spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status;

/** Installs Debian packages for missing commands when possible (root, apt-get); true when the command is there afterwards. */
function ensure(cmd: string, pkg: string): boolean {
  if (has(cmd) || has(`/usr/sbin/${cmd}`)) return true;
  if (process.getuid?.() === 0 && has('apt-get')) {
    console.error(`installing ${pkg} …`);
    spawnSync('sh', ['-c', `apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq ${pkg}`], { stdio: 'inherit' });
  }
  return has(cmd) || has(`/usr/sbin/${cmd}`);
}

/** The names and their answers, made through the API. */
async function populate(apiPort: number): Promise<Map<string, string[]>> {
  const gaap = cnClient('gaap', { port: apiPort });
  const ids: string[] = [];
  for (let i = 0; i < PROXIES; i++) {
    const { InstanceId } = await gaap.CreateProxy({ ProjectId: 0, ProxyName: `bench-${i}`, AccessRegion: 'Japan', RealServerRegion: 'Beijing', Bandwidth: 10, Concurrent: 2 });
    ids.push(InstanceId);
  }
  const { GroupId } = await gaap.CreateProxyGroup({
    ProjectId: 0, GroupName: 'bench', RealServerRegion: 'Beijing',
    AccessRegionSet: [{ AccessRegion: 'Hongkong', Bandwidth: 10, Concurrent: 2 }, { AccessRegion: 'Japan', Bandwidth: 10, Concurrent: 2 }],
  });
  await gaap.CreateProxyGroupDomain({ GroupId });
  const { DomainId } = await gaap.CreateGlobalDomain({ ProjectId: 0, DefaultValue: '192.0.2.1' });
  // 101001: the country every client is in by default.
  await gaap.CreateGlobalDomainDns({ DomainId, ProxyIdList: ids.slice(0, 4), NationCountryInnerCodes: ['101001'] });

  const names = new Map<string, string[]>();
  const { ProxySet } = await gaap.DescribeProxies({ Limit: 100 });
  const ip = new Map<string, string>(ProxySet.map((p: any) => [p.ProxyId, p.IP]));
  for (const p of ProxySet) names.set(p.Domain, [p.IP]);
  names.set(`${GroupId}.gaapqcloud.com.cn`, ProxySet.filter((p: any) => p.GroupId === GroupId).map((p: any) => p.IP));
  const { Domains } = await gaap.DescribeGlobalDomains({ ProjectId: -1, Offset: 0, Limit: 10 });
  names.set(Domains[0].FullDomain, ids.slice(0, 4).map((id) => ip.get(id)!));
  return names;
}

async function startDnsmasq(names: Map<string, string[]>, dir: string): Promise<{ port: number; child: ChildProcess }> {
  const hosts = join(dir, 'hosts');
  writeFileSync(hosts, [...names].flatMap(([name, ips]) => ips.map((ip) => `${ip} ${name}`)).join('\n') + '\n');
  const port = await freePort();
  const child = spawn('dnsmasq', [
    '--keep-in-foreground', '--conf-file=/dev/null', '--no-resolv', '--no-hosts', `--addn-hosts=${hosts}`,
    '--listen-address=127.0.0.1', '--bind-interfaces', `--port=${port}`, '--local-ttl=60', '--cache-size=10000', '--pid-file=', '--log-facility=-',
  ], { stdio: 'ignore', env: { ...process.env, PATH: `${process.env.PATH}:/usr/sbin` } });
  await new Promise((r) => setTimeout(r, 300));
  return { port, child };
}

interface Round {
  qps: number;
  /** Share of queries answered NOERROR. */
  ok: number;
}

function dnsperf(port: number, file: string): Round {
  const r = spawnSync('dnsperf', ['-s', '127.0.0.1', '-p', String(port), '-d', file, '-l', String(SECONDS), '-c', '4', '-q', '200'], { encoding: 'utf8' });
  if (process.env.BENCH_DNS_DEBUG) console.error(r.stdout, r.stderr);
  const qps = Number(/Queries per second:\s+([\d.]+)/.exec(r.stdout)?.[1] ?? NaN);
  const completed = Number(/Queries completed:\s+(\d+)/.exec(r.stdout)?.[1] ?? 0);
  const noerror = Number(/NOERROR (\d+)/.exec(r.stdout)?.[1] ?? 0);
  return { qps, ok: completed ? noerror / completed : 0 };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const round1 = (n: number) => Math.round(n * 100) / 100;

async function main(): Promise<void> {
  if (!ensure('dnsmasq', 'dnsmasq-base')) throw new Error('dnsmasq is needed (apt-get install dnsmasq-base)');
  const withDnsperf = ensure('dnsperf', 'dnsperf');
  const dir = mkdtempSync(join(tmpdir(), 'tclocal-bench-dns-'));
  // dnsmasq reads its hosts file after dropping to an unprivileged user.
  chmodSync(dir, 0o755);
  const dnsPort = await freePort();
  const tclocal = await startTclocalProcess(['--dns-port', String(dnsPort), '--dns-rate-limit', '0', '--transition-ms', '0', '--log-level', 'warn']);
  let dnsmasq: { port: number; child: ChildProcess } | undefined;
  try {
    const names = await populate(tclocal.port);
    dnsmasq = await startDnsmasq(names, dir);
    const file = join(dir, 'queries');
    writeFileSync(file, [...names.keys()].map((n) => `${n} A`).join('\n') + '\n');
    const queries = [...names.keys()];

    const run = async (port: number): Promise<Round> => (withDnsperf ? dnsperf(port, file) : udpLoad(port, queries, SECONDS, 200));
    // Warm up both.
    await run(dnsPort);
    await run(dnsmasq.port);
    const t: Round[] = [];
    const d: Round[] = [];
    for (let i = 0; i < ROUNDS; i++) {
      t.push(await run(dnsPort));
      d.push(await run(dnsmasq.port));
      console.error(`round ${i + 1}: tclocal ${Math.round(t[i].qps)} q/s, dnsmasq ${Math.round(d[i].qps)} q/s`);
    }
    for (const [who, rounds] of [['tclocal', t], ['dnsmasq', d]] as const) {
      if (median(rounds.map((x) => x.ok)) < 0.99) throw new Error(`${who} did not answer the queries NOERROR: the comparison would be void`);
    }
    const ratios = t.map((x, i) => x.qps / d[i].qps);
    const ratio = round1(median(ratios));
    const report = [
      `## ${DNS_HEADING} (\`npm run bench:dns\`, bench/dns.ts)`,
      '',
      `Last run: ${new Date().toISOString().slice(0, 10)}, ${cpus().length} cores, Node ${process.version}; ${names.size} names (${PROXIES} proxy domains, a group domain, a global domain answering 4 proxies), ` +
        `A queries cycling through them; ${ROUNDS} alternating rounds of ${SECONDS} s per server (medians; the ratio is the median of the ratios of adjacent rounds); ` +
        (withDnsperf ? 'load from dnsperf (4 clients, 200 queries outstanding) on the same machine.' : 'load from the Node UDP load generator of bench/dns-load.ts (dnsperf was not available), 200 queries outstanding, on the same machine.'),
      'tclocal runs with DNS rate limiting off (`--dns-rate-limit 0`: the default limit of 5,000 queries a second per source would cap a one-source load); dnsmasq (`dnsmasq-base`) serves the same names and addresses from a hosts file, TTL 60, no upstream. ' +
        'Both answer from memory: dnsmasq from its hosts table, tclocal from the answers it keeps until GAAP\'s data changes (the first query for a name after a change reads it from the store: a few indexed reads per account).',
      '',
      '| Server | queries/s | answered NOERROR |',
      '|---|---|---|',
      `| dnsmasq | ${Math.round(median(d.map((x) => x.qps)))} | ${(median(d.map((x) => x.ok)) * 100).toFixed(1)}% |`,
      `| tclocal | ${Math.round(median(t.map((x) => x.qps)))} | ${(median(t.map((x) => x.ok)) * 100).toFixed(1)}% |`,
      '',
      `Target: tclocal ≥ 0.5× dnsmasq — **${ratio}×** (${ratio >= 0.5 ? 'met' : 'NOT met'}).`,
      '',
    ].join('\n');
    console.log(report);
    if (!flag('--no-write')) writeSection(DNS_HEADING, report);
  } finally {
    dnsmasq?.child.kill('SIGTERM');
    tclocal.child.kill('SIGTERM');
    rmSync(dir, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
