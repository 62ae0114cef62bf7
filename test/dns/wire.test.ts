/**
 * The DNS server on the wire: truncation and TCP, EDNS, the RCODEs of
 * queries it does not answer, malformed packets and floods.
 */
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import * as dnsPacket from 'dns-packet';
import pino from 'pino';
import { loadConfig } from '../../src/config';
import { startServer } from '../../src/server';
import { cnClient, startTclocal, TEST_CA_DIR } from '../helpers';
import { prng } from '../../testkit/prng';
import { dig, digStatus, frame, query, RCODE, rcodeOf, resolver, tcpExchange, udpExchange } from './clients';

type Server = Awaited<ReturnType<typeof startTclocal>>;

/** Proxies behind one global domain: their A records overflow 512 bytes, and 1232. */
const MANY = 30;

describe('dns: wire protocol', () => {
  let server: Server;
  let gaap: any;
  let proxyName: string;
  let proxyIp: string;
  let bigName: string;
  let bigIps: string[];

  before(async () => {
    server = await startTclocal({ rateLimits: false });
    gaap = cnClient('gaap', server);
    const ids: string[] = [];
    for (let i = 0; i < MANY; i++) {
      const { InstanceId } = await gaap.CreateProxy({ ProjectId: 0, ProxyName: `many-${i}`, AccessRegion: 'Japan', RealServerRegion: 'Beijing', Bandwidth: 10, Concurrent: 2 });
      ids.push(InstanceId);
    }
    const { ProxySet } = await gaap.DescribeProxies({ ProxyIds: ids, Limit: 100 });
    bigIps = ProxySet.map((p: any) => p.IP).sort();
    proxyName = ProxySet[0].Domain;
    proxyIp = ProxySet[0].IP;
    const { DomainId } = await gaap.CreateGlobalDomain({ ProjectId: 0, DefaultValue: '192.0.2.1' });
    // 101001: the country of every client by default.
    await gaap.CreateGlobalDomainDns({ DomainId, ProxyIdList: ids, NationCountryInnerCodes: ['101001'] });
    bigName = (await gaap.DescribeGlobalDomains({ ProjectId: -1, Offset: 0, Limit: 10, Filters: [{ Name: 'DomainId', Values: [DomainId] }] })).Domains[0].FullDomain;
  });
  after(async () => {
    await server.stop();
  });

  it('an answer too large for UDP comes truncated (TC, no records), and whole over TCP', async () => {
    const udp = (await udpExchange(server, query(bigName, 'A')))!;
    const decoded = dnsPacket.decode(udp);
    assert.equal(decoded.flag_tc, true);
    assert.equal(decoded.answers?.length, 0);
    assert.equal(decoded.questions?.[0].name, bigName);
    const udpEdns = dnsPacket.decode((await udpExchange(server, query(bigName, 'A', { edns: true })))!);
    assert.equal(udpEdns.flag_tc, true, `${MANY} records do not fit in 1232 bytes either`);
    const [tcp] = await tcpExchange(server, [frame(query(bigName, 'A'))], 1);
    const whole = dnsPacket.decode(tcp);
    assert.equal(whole.flag_tc, false);
    assert.deepEqual(whole.answers!.map((a: any) => a.data).sort(), bigIps);
    // Node's resolver and dig retry over TCP by themselves.
    assert.deepEqual((await resolver(server).resolve4(bigName)).sort(), bigIps);
    const out = await dig(server, '+noedns', bigName, 'A');
    assert.match(out, /Truncated, retrying in TCP mode/);
    assert.equal((out.match(/^[^;].*\sIN\s+A\s/gm) ?? []).length, MANY);
  });

  it('several queries on one TCP connection, one split across writes, are all answered', async () => {
    const q1 = frame(query(proxyName, 'A', { id: 1 }));
    const q2 = frame(query('link-nosuch00.gaapqcloud.com.cn', 'A', { id: 2 }));
    const both = Buffer.concat([q1, q2]);
    const answers = await tcpExchange(server, [both.subarray(0, 5), both.subarray(5, q1.length + 3), both.subarray(q1.length + 3)], 2);
    const byId = new Map(answers.map((a) => [a.readUInt16BE(0), a]));
    assert.deepEqual(dnsPacket.decode(byId.get(1)!).answers!.map((a: any) => a.data), [proxyIp]);
    assert.equal(rcodeOf(byId.get(2)!), RCODE.NXDOMAIN);
  });

  it('EDNS: the OPT record is answered; a client subnet is echoed with its scope; version 1 is BADVERS', async () => {
    const r = dnsPacket.decode((await udpExchange(server, query(proxyName, 'A', { edns: true })))!);
    const opt = r.additionals!.find((a) => a.type === 'OPT') as any;
    assert.equal(opt.udpPayloadSize, 1232);
    const ecs = dnsPacket.decode((await udpExchange(server, query(proxyName, 'A', { edns: [{ code: 'CLIENT_SUBNET', family: 1, sourcePrefixLength: 24, scopePrefixLength: 0, ip: '198.51.100.0' } as any] })))!);
    const echoed = (ecs.additionals!.find((a) => a.type === 'OPT') as any).options.find((o: any) => o.code === 8);
    assert.equal(echoed.ip, '198.51.100.0');
    assert.equal(echoed.sourcePrefixLength, 24);
    assert.equal(echoed.scopePrefixLength, 24);
    // A subnet longer than its family allows is malformed.
    const bad = await udpExchange(server, query(proxyName, 'A', { edns: [{ code: 8, data: Buffer.from([0, 1, 40, 0, 1, 2, 3, 4, 5]) } as any] }));
    assert.equal(rcodeOf(bad!), RCODE.FORMERR);
    assert.match(await dig(server, '+edns=1', '+noednsnegotiation', proxyName), /status: BADVERS/);
    // No EDNS asked, none answered.
    assert.equal(dnsPacket.decode((await udpExchange(server, query(proxyName, 'A')))!).additionals!.length, 0);
  });

  it('every type and class gets an answer: records, NODATA with SOA, NOTIMP for zone transfers, REFUSED for other classes', async () => {
    const nodata = dnsPacket.decode((await udpExchange(server, query(proxyName, 'MX')))!);
    assert.equal((nodata as any).rcode, 'NOERROR');
    assert.equal(nodata.answers!.length, 0);
    assert.equal(nodata.authorities![0].type, 'SOA');
    const any = dnsPacket.decode((await udpExchange(server, query(proxyName, 'ANY')))!);
    assert.deepEqual(any.answers!.map((a: any) => a.data), [proxyIp]);
    assert.equal(rcodeOf((await udpExchange(server, query(proxyName, 'UNKNOWN_65280')))!), RCODE.NOERROR);
    assert.equal(rcodeOf((await udpExchange(server, query('gaapqcloud.com.cn', 'AXFR')))!), RCODE.NOTIMP);
    assert.equal(rcodeOf((await udpExchange(server, query(proxyName, 'A', { klass: 'CH' })))!), RCODE.REFUSED);
    assert.equal(await digStatus(server, 'version.bind', 'TXT', 'CH'), 'REFUSED');
    const soa = dnsPacket.decode((await udpExchange(server, query('GAAPQCLOUD.com.cn', 'SOA')))!);
    assert.equal(soa.answers![0].type, 'SOA');
    assert.equal(soa.flag_aa, true);
    // Not a QUERY opcode: NOTIMP.
    const notify = query(proxyName, 'SOA');
    notify[2] |= 4 << 3;
    assert.equal(rcodeOf((await udpExchange(server, notify))!), RCODE.NOTIMP);
  });

  it('malformed packets get FORMERR with their ID, or nothing, and the server keeps answering', async () => {
    const header = (id: number, qd: number) => Buffer.from([id >> 8, id & 255, 1, 0, 0, qd, 0, 0, 0, 0, 0, 0]);
    const formerr = async (bytes: Buffer, what: string) => {
      const r = await udpExchange(server, bytes);
      assert.ok(r, `${what}: an answer`);
      assert.equal(rcodeOf(r), RCODE.FORMERR, what);
      assert.equal(r.readUInt16BE(0), bytes.readUInt16BE(0), `${what}: the query's ID`);
    };
    // A name that points at itself, and two that point at each other.
    await formerr(Buffer.concat([header(0x1001, 1), Buffer.from([0xc0, 12, 0, 1, 0, 1])]), 'compression loop');
    await formerr(Buffer.concat([header(0x1002, 1), Buffer.from([1, 97, 0xc0, 14, 0, 1, 0, 1])]), 'forward pointer');
    // Labels adding up to more than 255 bytes.
    const long = Buffer.concat([...Array.from({ length: 5 }, () => Buffer.concat([Buffer.from([63]), Buffer.alloc(63, 97)])), Buffer.from([0, 0, 1, 0, 1])]);
    await formerr(Buffer.concat([header(0x1003, 1), long]), 'oversized name');
    await formerr(Buffer.concat([header(0x1004, 1), Buffer.from([9, 97, 98])]), 'label past the end');
    await formerr(header(0x1005, 0), 'no question');
    const q = query(proxyName, 'A');
    await formerr(Buffer.concat([header(0x1006, 2), q.subarray(12), q.subarray(12)]), 'two questions');
    await formerr(Buffer.concat([q.subarray(0, 11), Buffer.from([1]), q.subarray(12), Buffer.from([0, 0, 41, 4, 0, 0, 0, 0, 0, 0, 5])]), 'OPT record cut short');
    // Too short for a header, and responses: no answer at all.
    assert.equal(await udpExchange(server, Buffer.from([1, 2, 3]), 300), undefined);
    const response = query(proxyName, 'A');
    response[2] |= 0x80;
    assert.equal(await udpExchange(server, response, 300), undefined);
    // Over TCP too.
    const [tcp] = await tcpExchange(server, [frame(Buffer.concat([header(0x1007, 1), Buffer.from([0xc0, 12, 0, 1, 0, 1])]))], 1);
    assert.equal(rcodeOf(tcp), RCODE.FORMERR);

    // Random mutations of a valid query: every answer parses, none crashes the server.
    const rand = prng(13).next;
    const valid = query(proxyName, 'A', { edns: [{ code: 'CLIENT_SUBNET', family: 1, sourcePrefixLength: 24, scopePrefixLength: 0, ip: '198.51.100.0' } as any] });
    for (let i = 0; i < 300; i++) {
      const m = Buffer.from(valid);
      for (let k = 1 + Math.floor(rand() * 4); k > 0; k--) m[Math.floor(rand() * m.length)] = Math.floor(rand() * 256);
      m[2] &= 0x7f;
      const r = await udpExchange(server, m.subarray(0, 12 + Math.floor(rand() * (m.length - 11))), 1000);
      if (r) assert.doesNotThrow(() => dnsPacket.decode(r), `answer to mutation ${i}`);
    }
    assert.deepEqual(await resolver(server).resolve4(proxyName), [proxyIp]);
    assert.ok(Array.isArray((await gaap.DescribeAccessRegions({})).AccessRegionSet));
  });
});

describe('dns: floods and settings', () => {
  it('queries past the per-source limit are REFUSED; the API and the next second\'s queries are unaffected', async () => {
    const server = await startTclocal({ rateLimits: false, dnsRateLimit: 50 });
    try {
      const gaap = cnClient('gaap', server);
      const { InstanceId } = await gaap.CreateProxy({ ProjectId: 0, ProxyName: 'flood', AccessRegion: 'Japan', RealServerRegion: 'Beijing', Bandwidth: 10, Concurrent: 2 });
      const p = (await gaap.DescribeProxies({ ProxyIds: [InstanceId] })).ProxySet[0];
      const { createSocket } = await import('node:dgram');
      const socket = createSocket('udp4');
      const codes = new Map<number, number>();
      socket.on('message', (m) => codes.set(rcodeOf(m), (codes.get(rcodeOf(m)) ?? 0) + 1));
      await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', () => resolve()));
      const api = gaap.DescribeAccessRegions({});
      for (let i = 0; i < 2000; i++) {
        socket.send(query(p.Domain, 'A', { id: i }), server.dns!.port, '127.0.0.1');
        if (i % 200 === 0) await new Promise((r) => setImmediate(r));
      }
      assert.ok(Array.isArray((await api).AccessRegionSet));
      await new Promise((r) => setTimeout(r, 500));
      socket.close();
      assert.ok((codes.get(RCODE.REFUSED) ?? 0) > 0, `some REFUSED: ${JSON.stringify([...codes])}`);
      assert.ok((codes.get(RCODE.NOERROR) ?? 0) >= 1, 'the first queries answered');
      await new Promise((r) => setTimeout(r, 1100));
      assert.deepEqual(await resolver(server).resolve4(p.Domain), [p.IP]);
    } finally {
      await server.stop();
    }
  });

  it('--dns-ttl sets the TTL of answers and of the SOA; a loop of DefaultValue CNAMEs ends', async () => {
    const server = await startTclocal({ rateLimits: false, dnsTtl: 5 });
    try {
      const gaap = cnClient('gaap', server);
      const { InstanceId } = await gaap.CreateProxy({ ProjectId: 0, ProxyName: 'ttl', AccessRegion: 'Japan', RealServerRegion: 'Beijing', Bandwidth: 10, Concurrent: 2 });
      const p = (await gaap.DescribeProxies({ ProxyIds: [InstanceId] })).ProxySet[0];
      assert.deepEqual(await resolver(server).resolve4(p.Domain, { ttl: true }), [{ address: p.IP, ttl: 5 }]);
      const nx = dnsPacket.decode((await udpExchange(server, query('link-nosuch00.gaapqcloud.com.cn', 'A')))!);
      assert.equal((nx.authorities![0] as any).data.minimum, 5);

      const a = await gaap.CreateGlobalDomain({ ProjectId: 0, DefaultValue: '192.0.2.1' });
      const b = await gaap.CreateGlobalDomain({ ProjectId: 0, DefaultValue: '192.0.2.2' });
      const { Domains } = await gaap.DescribeGlobalDomains({ ProjectId: -1, Offset: 0, Limit: 10 });
      const full = (id: string) => Domains.find((d: any) => d.DomainId === id).FullDomain;
      await gaap.ModifyGlobalDomainAttribute({ DomainId: a.DomainId, ProjectId: 0, DefaultValue: full(b.DomainId) });
      await gaap.ModifyGlobalDomainAttribute({ DomainId: b.DomainId, ProjectId: 0, DefaultValue: full(a.DomainId) });
      const loop = dnsPacket.decode((await udpExchange(server, query(full(a.DomainId), 'A', { edns: true })))!);
      assert.ok(loop.answers!.length > 0 && loop.answers!.every((x) => x.type === 'CNAME'));
    } finally {
      await server.stop();
    }
  });

  it('DNS settings are checked: a bad country table stops start-up, off means no DNS server', async () => {
    assert.throws(() => loadConfig({}, { TCLOCAL_DNS_COUNTRIES: '{"10.0.0.0/33": "101001"}' }), /TCLOCAL_DNS_COUNTRIES: "10\.0\.0\.0\/33" is not a CIDR/);
    assert.throws(() => loadConfig({}, { TCLOCAL_DNS_COUNTRIES: '{"0.0.0.0/0": 101001}' }), /TCLOCAL_DNS_COUNTRIES: the code of "0\.0\.0\.0\/0" must be a numeric string/);
    assert.throws(() => loadConfig({}, { TCLOCAL_DNS_COUNTRIES: '/no/such/table.json' }), /TCLOCAL_DNS_COUNTRIES: cannot read country table file/);
    assert.throws(() => loadConfig({}, { TCLOCAL_DNS_PORT: '70000' }), /TCLOCAL_DNS_PORT/);
    await assert.rejects(startTclocal({ dnsCountries: [{ cidr: '0.0.0.0/0', code: '999999' }] }), /"999999" .* is not a code listed by DescribeCountryAreaMapping/);
    // The port taken (a second tclocal): it starts without DNS and a warning names the port and the settings.
    const first = await startTclocal();
    try {
      const warnings: string[] = [];
      const sink = new Writable({
        write(chunk, _enc, done) {
          for (const l of String(chunk).split('\n').filter(Boolean)) if (JSON.parse(l).level === 40) warnings.push(JSON.parse(l).msg);
          done();
        },
      });
      const config = loadConfig({}, {}, { port: 0, inMemory: true, caDir: TEST_CA_DIR, dnsPort: first.dns!.port, logLevel: 'warn' });
      const second = await startServer(config, pino({ level: 'warn' }, sink));
      try {
        assert.equal(second.dns, null);
        assert.equal((await cnClient('gaap', second).DescribeAccessRegions({})).AccessRegionSet.length > 0, true);
        assert.deepEqual(warnings, [
          `DNS is off: 127.0.0.1:${first.dns!.port} is already in use (another tclocal?); choose another port with --dns-port / TCLOCAL_DNS_PORT (0 picks a free one), or turn DNS off with --dns off`,
        ]);
        // The first still answers on its port.
        const answer = await udpExchange(first, query('link-00000000.gaapqcloud.com.cn', 'A'));
        assert.equal(rcodeOf(answer!), RCODE.NXDOMAIN);
      } finally {
        await second.stop();
      }
      // An idle TCP connection does not hold up stopping.
      const { connect } = await import('node:net');
      const idle = connect(first.dns!.port, '127.0.0.1');
      await new Promise((r) => idle.once('connect', r));
      const t0 = Date.now();
      await first.stop();
      assert.ok(Date.now() - t0 < 5000, 'stopped without waiting for the idle connection');
      idle.destroy();
    } catch (err) {
      await first.stop().catch(() => undefined);
      throw err;
    }
    const off = await startTclocal({ dns: false });
    assert.equal(off.dns, null);
    await off.stop();
  });
});
