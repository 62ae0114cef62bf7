import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { selfSigned } from '../../testkit/pem';
import { startPlane, stopPlane, runningProxy, servedPort, type Plane } from '../support/running-proxy';
import { dataplaneReport, randomPort, until } from './fixtures';
import { getOnce, httpRule, scriptedOrigin, type ScriptedOrigin } from './http-fixtures';

interface Work {
  pending: boolean;
  passes: number;
  httpListenersConfigured: number;
  recordsRead: number;
  wholeReads: number;
}

describe('data plane: following the commits costs an HTTP listener what changed in it, not what the account holds', () => {
  let plane: Plane<ScriptedOrigin>;
  let gaap: any;
  let proxy: { proxyId: string; ip: string };

  before(async () => {
    // Rate limits off: the account is filled faster than the documented call rates.
    plane = await startPlane({ rateLimits: false }, scriptedOrigin, ['web']);
    gaap = plane.gaap;
    proxy = await runningProxy(gaap, 'follow');
  });
  after(() => stopPlane(plane));

  const work = async (): Promise<Work> => (await dataplaneReport(plane.server)).reconcile;
  /** Waits until the data plane has taken every commit: none pending, and no pass begun for a while (a transition may commit later). */
  async function settled(): Promise<Work> {
    let last = await work();
    for (;;) {
      await new Promise((r) => setTimeout(r, 150));
      const now = await work();
      assert.equal(typeof now.pending, 'boolean', 'the report says whether a pass is pending');
      if (!now.pending && now.passes === last.passes) return now;
      last = now;
    }
  }
  const since = (before: Work, now: Work) => ({
    configured: now.httpListenersConfigured - before.httpListenersConfigured,
    recordsRead: now.recordsRead - before.recordsRead,
    wholeReads: now.wholeReads - before.wholeReads,
  });

  /** An HTTP listener with one rule on `domain`, serving. */
  async function servingListener(domain: string): Promise<{ listenerId: string; port: number }> {
    const { ListenerId: listenerId } = await gaap.CreateHTTPListener({ ProxyId: proxy.proxyId, ListenerName: 'web', Port: randomPort() });
    const port = await servedPort(plane.server, proxy.proxyId, listenerId);
    await httpRule(gaap, plane.rsId, listenerId, domain, [plane.origins.web.port]);
    await until(async () => (await getOnce(proxy.ip, port, domain, '/')).status === 200, `${domain} served`);
    return { listenerId, port };
  }

  /** What a second rule on a listener cost, from the call until it serves. */
  async function costOfARule(listener: { listenerId: string; port: number }, domain: string) {
    const before = await settled();
    await httpRule(gaap, plane.rsId, listener.listenerId, domain, [plane.origins.web.port]);
    await until(async () => (await getOnce(proxy.ip, listener.port, domain, '/')).body.startsWith('web '), `${domain} served`);
    return since(before, await settled());
  }

  it('a new rule reads and configures again only its own listener, with 1 or 31 HTTP listeners in the account', async () => {
    const small = await costOfARule(await servingListener('a.test'), 'a2.test');
    for (let i = 0; i < 30; i++) await servingListener(`grow${i}.test`);
    const large = await costOfARule(await servingListener('b.test'), 'b2.test');
    for (const cost of [small, large]) {
      assert.equal(cost.wholeReads, 0, 'no commit reads the account whole');
      // The rule's commits (create, bind, the transitions to running) each configure its listener once at most.
      assert.ok(cost.configured >= 1 && cost.configured <= 6, `HTTP listeners configured: ${cost.configured}`);
    }
    assert.ok(large.configured <= small.configured + 2, `configured grew with the account: ${small.configured} → ${large.configured}`);
    assert.ok(large.recordsRead <= small.recordsRead + 8, `records read grew with the account: ${small.recordsRead} → ${large.recordsRead}`);
  });

  it('a proxy joining a group brings the group\'s HTTP listener to it, configuring that listener and no other', async () => {
    const { GroupId: groupId } = await gaap.CreateProxyGroup({
      ProjectId: 0, GroupName: 'g', RealServerRegion: 'Beijing', AccessRegionSet: [{ AccessRegion: 'Hongkong', Bandwidth: 10, Concurrent: 2 }],
    });
    const [first] = (await gaap.DescribeProxies({ Filters: [{ Name: 'GroupId', Values: [groupId] }] })).ProxySet.map((p: any) => p.ProxyId);
    const { ListenerId: listenerId } = await gaap.CreateHTTPListener({ GroupId: groupId, ListenerName: 'g', Port: randomPort() });
    await servedPort(plane.server, first, listenerId);
    await httpRule(gaap, plane.rsId, listenerId, 'group.test', [plane.origins.web.port]);
    const before = await settled();
    const { InstanceId: joined } = await gaap.CreateProxy({ ProjectId: 0, GroupId: groupId, ProxyName: 'm2', AccessRegion: 'Japan', RealServerRegion: 'Beijing', Bandwidth: 10, Concurrent: 2 });
    const port = await servedPort(plane.server, joined, listenerId);
    const ip = (await gaap.DescribeProxies({ ProxyIds: [joined] })).ProxySet[0].IP;
    await until(async () => (await getOnce(ip, port, 'group.test', '/')).body.startsWith('web '), 'the group listener on the new member');
    const cost = since(before, await settled());
    // The account holds other HTTP listeners (the tests above): the group's is the only one configured, once per commit of the new member at most.
    assert.ok(cost.configured >= 1 && cost.configured <= 4, `HTTP listeners configured: ${cost.configured}`);
    assert.equal(cost.wholeReads, 0);
  });

  it('a change to a certificate configures again the HTTPS listeners built from it, and only them', async () => {
    const certificate = async (name: string) => {
      const pem = selfSigned(name, { sans: [name] });
      return (await gaap.CreateCertificate({ CertificateType: 2, CertificateContent: pem.cert, CertificateKey: pem.key, CertificateAlias: name })).CertificateId as string;
    };
    const [shared, own] = [await certificate('shared.test'), await certificate('own.test')];
    for (const cert of [shared, shared, own]) {
      const { ListenerId } = await gaap.CreateHTTPSListener({ ProxyId: proxy.proxyId, ListenerName: 'tls', Port: randomPort(), CertificateId: cert, ForwardProtocol: 'HTTP', AuthType: 0 });
      await servedPort(plane.server, proxy.proxyId, ListenerId);
    }
    for (const [cert, users] of [[shared, 2], [own, 1]] as const) {
      const before = await settled();
      await gaap.ModifyCertificateAttributes({ CertificateId: cert, CertificateAlias: `renamed-${cert}` });
      const cost = since(before, await settled());
      assert.equal(cost.configured, users, `listeners configured after a change to ${cert}`);
    }
  });
});
