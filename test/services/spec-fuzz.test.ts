/**
 * Every action of every API 3.0 product, called through the official SDK
 * with inputs that pass validation but carry arbitrary values (real IDs of
 * existing resources among them, to reach deep into the handlers). The test
 * server runs with strict error codes and strict responses, so an answer
 * that is an undocumented code, a success outside the model, or a crash
 * shows up as InternalError — and none may.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { RunningServer } from '../../src/server';
import { specs } from '../../src/spec';
import type { FieldSpec, ServiceSpec } from '../../src/spec/types';
import { cnClient, startTclocal } from '../helpers';
import { selfSigned } from '../../testkit/pem';
import { prng } from '../../testkit/prng';

const STRINGS = ['', 'x', 'www.example.com', '1.1.1.1', '10.0.0.0/8', 'Hongkong', 'Beijing', 'Guangzhou', 'TCP', 'UDP', 'HTTP', 'HTTPS', 'ALL', 'rr', 'wrr', 'lc', '/', '/a/b', 'ACCEPT', 'DROP',
  'default', 'IPv4', 'IPv6', 'Thunder', 'normal', 'cn2', 'IP', 'DOMAIN', 'GET', 'HEAD', 'TLSv1.2', 'GAAP_TLS_CIPHERS_GENERAL', '80', '80-90', 'AUDIO', 'LIVE_AUDIO', 'URL', 'DNS', 'DNS_AUTO', 'FILE',
  'asc', 'desc', 'create_time', 'Proxy', 'ProxyGroup', 'RealServer', '2024-01-01 00:00:00', '2024-01-02 00:00:00', 'InBandwidth', 'https://127.0.0.1:9/cb', 'x'.repeat(300), '中文', 'https://media.example.com/a.mp3'];
const INTEGERS = [0, 1, 2, -1, 3, 5, 10, 20, 60, 80, 100, 300, 443, 3600, 65535, 86400, 99999999];

describe('every action with arbitrary valid-typed input', () => {
  let server: RunningServer;
  const ids: string[] = [];

  before(async () => {
    server = await startTclocal({ rateLimits: false });
    const gaap = cnClient('gaap', server);
    const proxy = (await gaap.CreateProxy({ ProjectId: 0, ProxyName: 'fuzz', AccessRegion: 'Hongkong', RealServerRegion: 'Beijing', Bandwidth: 10, Concurrent: 2 })).InstanceId;
    const group = (await gaap.CreateProxyGroup({ ProjectId: 0, GroupName: 'fuzz', RealServerRegion: 'Beijing' })).GroupId;
    const tcp = (await gaap.CreateTCPListeners({ ProxyId: proxy, ListenerName: 'fuzz', Ports: [81], Scheduler: 'rr', HealthCheck: 0, RealServerType: 'IP' })).ListenerIds[0];
    const http = (await gaap.CreateHTTPListener({ ProxyId: proxy, ListenerName: 'fuzz', Port: 80 })).ListenerId;
    await gaap.CreateDomain({ ListenerId: http, Domain: 'www.example.com' });
    const rule = (await gaap.CreateRule({ ListenerId: http, Domain: 'www.example.com', Path: '/', RealServerType: 'IP', Scheduler: 'rr', HealthCheck: 0, CheckParams: { DelayLoop: 5, ConnectTimeout: 2, Path: '/', Method: 'GET', StatusCode: [200] } })).RuleId;
    const rs = (await gaap.AddRealServers({ RealServerIP: ['1.1.1.1'], RealServerName: 'fuzz', ProjectId: 0 })).RealServerSet[0].RealServerId;
    const pem = selfSigned('www.example.com');
    const cert = (await gaap.CreateCertificate({ CertificateType: 2, CertificateContent: pem.cert, CertificateKey: pem.key })).CertificateId;
    const policy = (await gaap.CreateSecurityPolicy({ ProxyId: proxy, DefaultAction: 'ACCEPT' })).PolicyId;
    const domain = (await gaap.CreateGlobalDomain({ ProjectId: 0, DefaultValue: 'www.example.com' })).DomainId;
    const sslCert = (await cnClient('ssl', server).ApplyCertificate({ DvAuthMethod: 'DNS', DomainName: 'fuzz.example.com' })).CertificateId;
    const task = (await cnClient('ams', server).CreateAudioModerationTask({ Type: 'LIVE_AUDIO', Tasks: [{ Input: { Url: 'rtmp://x/live' } }] })).Results[0].TaskId;
    ids.push(proxy, group, tcp, http, rule, rs, cert, policy, domain, sslCert, task, `qcs::gaap:ap-guangzhou:uin/:proxy/${proxy}`);
  });
  after(() => server.stop());

  function value(r: ReturnType<typeof prng>, spec: ServiceSpec, f: FieldSpec, depth: number): unknown {
    if (f.array) return Array.from({ length: r.int(depth > 2 ? 2 : 4) }, () => value(r, spec, { ...f, array: false }, depth + 1));
    switch (f.type) {
      case 'String':
      case 'Timestamp':
        return r.int(3) === 0 ? r.pick(ids) : r.pick(STRINGS);
      case 'Integer':
        return r.pick(INTEGERS);
      case 'Float':
        return r.pick([0, 1.5, -2.25, 100]);
      case 'Boolean':
        return r.int(2) === 0;
      default: {
        const struct = spec.structs[f.type] ?? {};
        const out: Record<string, unknown> = {};
        for (const [name, sf] of Object.entries(struct)) if (sf.required || r.int(2) === 0) out[name] = value(r, spec, sf, depth + 1);
        return out;
      }
    }
  }

  for (const spec of specs) {
    it(`${spec.service}: ${Object.keys(spec.actions).length} actions × 40 calls answer documented codes or model-conform successes`, async () => {
      const client = cnClient(spec.service as any, server);
      const r = prng(7 + spec.service.length);
      const internal: string[] = [];
      let ok = 0;
      for (const action of Object.keys(spec.actions).sort()) {
        for (let i = 0; i < 40; i++) {
          const input: Record<string, unknown> = {};
          for (const [name, f] of Object.entries(spec.actions[action].input)) if (f.required || r.int(2) === 0) input[name] = value(r, spec, f, 0);
          try {
            await client[action](input);
            ok++;
          } catch (e) {
            const err = e as { code?: string; message?: string };
            if (!err.code || err.code === 'InternalError') internal.push(`${action} ${JSON.stringify(input).slice(0, 300)} → ${err.code} ${err.message}`);
          }
        }
      }
      assert.deepEqual(internal, []);
      assert.ok(ok > 0, 'some calls should succeed');
      // Still serving.
      assert.ok((await cnClient('gaap', server).DescribeAccessRegions({})).TotalCount > 0);
    });
  }
});
