import assert from 'node:assert/strict';
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { after, before, describe, it } from 'node:test';
import type { RunningServer } from '../../src/server';
import { cnClient, startTclocal } from '../helpers';
import { bindOrigins, l4Listener, localRealServer, runningProxy, servedPort } from '../support/running-proxy';
import { boundListener, tcpOrigin, udpAsk, udpOrigin, until, whoAnswers, type Origin, type UdpOrigin } from './fixtures';

describe('data plane: UDP sessions and security policies', () => {
  let server: RunningServer;
  let gaap: any;
  let u1: UdpOrigin;
  let u2: UdpOrigin;
  let t: Origin;
  let rsId: string;
  const clients: UdpSocket[] = [];

  const client = async (): Promise<UdpSocket> => {
    const s = createSocket('udp4');
    await new Promise<void>((resolve) => s.bind(0, '127.0.0.1', resolve));
    clients.push(s);
    return s;
  };

  before(async () => {
    server = await startTclocal({ dataplaneCheckScale: 0.02, dataplaneUdpIdleMs: 300 });
    gaap = cnClient('gaap', server);
    u1 = await udpOrigin('U1');
    u2 = await udpOrigin('U2');
    t = await tcpOrigin('T');
    rsId = await localRealServer(gaap);
  });
  after(async () => {
    for (const c of clients) c.close();
    await server.stop();
    await u1.close();
    await u2.close();
    await t.close();
  });

  async function proxy(): Promise<{ proxyId: string; ip: string }> {
    return runningProxy(gaap, 'udp');
  }

  async function udpListener(proxyId: string, settings: Record<string, unknown> = {}) {
    const { listenerId, port } = await l4Listener(gaap, proxyId, 'UDP', { ListenerName: 'u', ...settings });
    await bindOrigins(gaap, rsId, listenerId, [{ port: u1.port }, { port: u2.port }]);
    await servedPort(server, proxyId, listenerId, 2);
    return { listenerId, port };
  }

  it('a session per client address keeps its origin; replies come back through the listener; idle sessions expire', async () => {
    const { proxyId, ip } = await proxy();
    const { listenerId, port } = await udpListener(proxyId);
    const c1 = await client();
    const c2 = await client();
    const r1 = await udpAsk(c1, ip, port, 'one');
    const r2 = await udpAsk(c2, ip, port, 'two');
    assert.ok(r1 && r2);
    const o1 = r1!.split(':')[0];
    assert.notEqual(o1, r2!.split(':')[0], 'rr gives the second session the other origin');
    for (let i = 0; i < 5; i++) assert.equal(await udpAsk(c1, ip, port, `again${i}`), `${o1}:again${i}`);
    assert.equal((await boundListener(server, proxyId, listenerId))?.connections, 2);
    await until(async () => (await boundListener(server, proxyId, listenerId))?.connections === 0, 'idle sessions to expire');
  });

  it('lrtt measures each UDP origin by its first reply to a new session', async () => {
    const { proxyId, ip } = await proxy();
    const { listenerId, port } = await udpListener(proxyId, { Scheduler: 'lrtt' });
    // Each new client address is a session; the unmeasured origin is chosen first, so two sessions measure both.
    for (let i = 0; i < 2; i++) assert.ok(await udpAsk(await client(), ip, port, `s${i}`));
    const report = await boundListener(server, proxyId, listenerId);
    assert.deepEqual(report!.origins.map((o: any) => typeof o.rttMs), ['number', 'number']);
  });

  it('UDP PORT health checks send SendContext and expect RecvContext', async () => {
    const { proxyId } = await proxy();
    const good = await udpListener(proxyId, { HealthCheck: 1, DelayLoop: 5, ConnectTimeout: 2, CheckType: 'PORT', CheckPort: u1.port, ContextType: 'TEXT', SendContext: 'hello?', RecvContext: 'hello!', HealthyThreshold: 1, UnhealthyThreshold: 1 });
    const bad = await udpListener(proxyId, { HealthCheck: 1, DelayLoop: 5, ConnectTimeout: 2, CheckType: 'PORT', CheckPort: u1.port, ContextType: 'TEXT', SendContext: 'hello?', RecvContext: 'something else', HealthyThreshold: 1, UnhealthyThreshold: 1 });
    await until(async () => (await gaap.DescribeUDPListeners({ ListenerId: bad.listenerId })).ListenerSet[0].BindStatus === 1, 'the mismatching probe to mark origins abnormal');
    await new Promise((r) => setTimeout(r, 300));
    assert.equal((await gaap.DescribeUDPListeners({ ListenerId: good.listenerId })).ListenerSet[0].BindStatus, 0);
    const down = await boundListener(server, proxyId, bad.listenerId);
    assert.ok(down!.origins.every((o) => !o.healthy));
  });

  it('an opened policy decides per new connection and session: first matching rule, then the default; closing it lifts it', async () => {
    const { proxyId, ip } = await proxy();
    const { listenerId: tcpListener, port: tcpPort } = await l4Listener(gaap, proxyId, 'TCP', { ListenerName: 't' });
    await bindOrigins(gaap, rsId, tcpListener, [{ port: t.port }]);
    const udp = await udpListener(proxyId);
    assert.equal(await whoAnswers(ip, tcpPort), 'T');

    const { PolicyId } = await gaap.CreateSecurityPolicy({ ProxyId: proxyId, DefaultAction: 'ACCEPT' });
    // Our clients come from 127.0.0.1: drop TCP on the listener's port only.
    await gaap.CreateSecurityRules({ PolicyId, RuleList: [{ SourceCidr: '127.0.0.0/8', Action: 'DROP', Protocol: 'TCP', DestPortRange: String(tcpPort), AliasName: 'no-tcp' }] });
    // Created but not opened: nothing is enforced.
    assert.equal(await whoAnswers(ip, tcpPort), 'T');
    await gaap.OpenSecurityPolicy({ ProxyId: proxyId, PolicyId });
    await until(async () => (await whoAnswers(ip, tcpPort)) === 'REFUSED', 'the policy to drop TCP');
    const c = await client();
    assert.ok(await udpAsk(c, ip, udp.port, 'udp passes'), 'UDP is not covered by the TCP rule');

    // A UDP rule for a range holding the port: new sessions are dropped.
    await gaap.CreateSecurityRules({ PolicyId, RuleList: [{ SourceCidr: '127.0.0.1', Action: 'DROP', Protocol: 'UDP', DestPortRange: `${udp.port - 1}-${udp.port + 1}`, AliasName: 'no-udp' }] });
    const fresh = await client();
    await until(async () => (await udpAsk(fresh, ip, udp.port, 'dropped?', 300)) === undefined, 'the UDP rule to drop new sessions');

    await gaap.CloseSecurityPolicy({ ProxyId: proxyId, PolicyId });
    await until(async () => (await whoAnswers(ip, tcpPort)) === 'T', 'closing the policy to lift it');
    const later = await client();
    assert.ok(await udpAsk(later, ip, udp.port, 'back'));
  });

  it('the first matching rule wins over a later one that matches too; deleting a rule or the opened policy takes effect', async () => {
    const { proxyId, ip } = await proxy();
    const { listenerId: tcpListener, port: tcpPort } = await l4Listener(gaap, proxyId, 'TCP', { ListenerName: 't' });
    await bindOrigins(gaap, rsId, tcpListener, [{ port: t.port }]);
    const { PolicyId } = await gaap.CreateSecurityPolicy({ ProxyId: proxyId, DefaultAction: 'DROP' });
    // Both rules match our clients (127.0.0.1, TCP, the listener's port); the first drops, the second accepts.
    const { RuleIdList } = await gaap.CreateSecurityRules({
      PolicyId,
      RuleList: [
        { SourceCidr: '127.0.0.1/32', Action: 'DROP', Protocol: 'TCP', DestPortRange: String(tcpPort), AliasName: 'first' },
        { SourceCidr: '127.0.0.0/8', Action: 'ACCEPT', Protocol: 'ALL', DestPortRange: 'ALL', AliasName: 'second' },
      ],
    });
    await gaap.OpenSecurityPolicy({ ProxyId: proxyId, PolicyId });
    await until(async () => (await whoAnswers(ip, tcpPort)) === 'REFUSED', 'the first rule to drop');
    await gaap.DeleteSecurityRules({ PolicyId, RuleIdList: [RuleIdList[0]] });
    await until(async () => (await whoAnswers(ip, tcpPort)) === 'T', 'the second rule to accept once the first is gone');
    await gaap.DeleteSecurityRules({ PolicyId, RuleIdList: [RuleIdList[1]] });
    await until(async () => (await whoAnswers(ip, tcpPort)) === 'REFUSED', 'the default to drop with no rule left');
    await until(async () => (await gaap.DescribeSecurityPolicyDetail({ PolicyId })).Status === 'BOUND', 'the policy to settle');
    await gaap.DeleteSecurityPolicy({ PolicyId });
    await until(async () => (await whoAnswers(ip, tcpPort)) === 'T', 'deleting the opened policy to lift it');
  });

  it('a DROP default with an ACCEPT rule lets only the listed sources in', async () => {
    const { proxyId, ip } = await proxy();
    const { listenerId: tcpListener, port: tcpPort } = await l4Listener(gaap, proxyId, 'TCP', { ListenerName: 't' });
    await bindOrigins(gaap, rsId, tcpListener, [{ port: t.port }]);
    const { PolicyId } = await gaap.CreateSecurityPolicy({ ProxyId: proxyId, DefaultAction: 'DROP' });
    const { RuleIdList } = await gaap.CreateSecurityRules({ PolicyId, RuleList: [{ SourceCidr: '10.0.0.0/8', Action: 'ACCEPT', Protocol: 'ALL', DestPortRange: 'ALL', AliasName: 'ten' }] });
    await gaap.OpenSecurityPolicy({ ProxyId: proxyId, PolicyId });
    await until(async () => (await whoAnswers(ip, tcpPort)) === 'REFUSED', 'the default to drop');
    await gaap.ModifySecurityRule({ PolicyId, RuleId: RuleIdList[0], SourceCidr: '127.0.0.1/32', RuleAction: 'ACCEPT', AliasName: 'local', Protocol: 'ALL', DestPortRange: 'ALL' });
    await until(async () => (await whoAnswers(ip, tcpPort)) === 'T', 'the modified rule to accept');
  });
});
