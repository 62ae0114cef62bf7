/**
 * Resource browsing, /_tclocal/resources: what the SDKs created, listed by
 * account and kind with pages and filters run in the store, with pending
 * transitions, children and links, secrets masked.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { RunningServer } from '../../src/server';
import { ACCOUNT_A, cnClient, DEFAULT_ACCOUNT, MANUAL_TRANSITIONS, startTclocal } from '../helpers';
import { selfSigned } from '../../testkit/pem';
import { admin } from './admin-client';

const account = DEFAULT_ACCOUNT.uin;
const list = async (server: RunningServer, kind: string, query = '') =>
  (await admin(server, 'GET', `/_tclocal/resources/${kind}?account=${account}${query}`)).json;

describe('resource browsing', () => {
  let server: RunningServer;
  let gaap: any;
  const proxies: string[] = [];
  before(async () => {
    server = await startTclocal(MANUAL_TRANSITIONS);
    gaap = cnClient('gaap', server);
    for (let i = 0; i < 5; i++) {
      proxies.push((await gaap.CreateProxy({
        ProjectId: 0, ProxyName: i === 3 ? 'needle-proxy' : `proxy-${i}`, AccessRegion: 'Guangzhou', RealServerRegion: 'Beijing', Bandwidth: 10, Concurrent: 2,
      })).InstanceId);
    }
  });
  after(() => server.stop());

  it('counts resources per account and kind, configured accounts included', async () => {
    const { status, json } = await admin(server, 'GET', '/_tclocal/resources');
    assert.equal(status, 200);
    const kinds = json.kinds.map((k: any) => k.kind);
    for (const k of ['gaap.proxy', 'gaap.group', 'gaap.listener', 'gaap.rule', 'gaap.realserver', 'gaap.certificate', 'gaap.securitypolicy', 'gaap.globaldomain', 'gaap.dnsrecord', 'ssl.certificate', 'ams.task', 'ci.job']) {
      assert.ok(kinds.includes(k), k);
    }
    const mine = json.accounts.find((a: any) => a.account === account);
    assert.equal(mine.counts['gaap.proxy'], 5);
    assert.equal(mine.pending, 5);
    assert.deepEqual(json.accounts.find((a: any) => a.account === ACCOUNT_A.uin).counts, {});
  });

  it('pages, searches and filters by status in the store, and shows pending transitions', async () => {
    const page = await list(server, 'gaap.proxy', '&limit=2&offset=2');
    assert.equal(page.total, 5);
    assert.deepEqual(page.items.map((r: any) => r.id), proxies.slice(2, 4));
    const row = page.items[1];
    assert.equal(row.name, 'needle-proxy');
    assert.equal(row.status, 'CREATING');
    assert.equal(row.fields.AccessRegion, 'Guangzhou');
    assert.equal(row.pending.length, 1);
    assert.ok(Date.parse(row.pending[0].dueAt) > 0);
    const found = await list(server, 'gaap.proxy', '&q=NEEDLE');
    assert.deepEqual(found.items.map((r: any) => r.id), [proxies[3]]);
    assert.equal((await list(server, 'gaap.proxy', `&q=${proxies[1]}`)).items[0].id, proxies[1]);
    assert.equal((await list(server, 'gaap.proxy', '&status=RUNNING')).total, 0);

    await admin(server, 'POST', '/_tclocal/transitions/advance', {});
    const running = await list(server, 'gaap.proxy', '&status=RUNNING');
    assert.equal(running.total, 5);
    assert.ok(running.items.every((r: any) => r.pending.length === 0));
  });

  it('shows a proxy with its listeners, and a listener with its proxy and real servers', async () => {
    const proxyId = proxies[0];
    const rs = (await gaap.AddRealServers({ ProjectId: 0, RealServerIP: ['10.0.0.1'], RealServerName: 'origin' })).RealServerSet[0].RealServerId;
    const [listenerId] = (await gaap.CreateTCPListeners({ ListenerName: 'tcp-a', Ports: [7000], Scheduler: 'rr', HealthCheck: 0, RealServerType: 'IP', ProxyId: proxyId })).ListenerIds;
    await admin(server, 'POST', '/_tclocal/transitions/advance', {});
    await gaap.BindListenerRealServers({ ListenerId: listenerId, RealServerBindSet: [{ RealServerId: rs, RealServerPort: 80, RealServerIP: '10.0.0.1', RealServerWeight: 1 }] });
    await admin(server, 'POST', '/_tclocal/transitions/advance', {});

    const proxy = (await admin(server, 'GET', `/_tclocal/resources/gaap.proxy/${proxyId}?account=${account}`)).json;
    assert.equal(proxy.id, proxyId);
    assert.equal(proxy.data.ProxyName, 'proxy-0');
    const listeners = proxy.children.find((c: any) => c.kind === 'gaap.listener');
    assert.deepEqual(listeners.items.map((r: any) => r.id), [listenerId]);
    assert.equal((await list(server, 'gaap.listener', `&parent=${proxyId}`)).total, 1);
    assert.equal((await list(server, 'gaap.listener', `&parent=${proxies[1]}`)).total, 0);

    const listener = (await admin(server, 'GET', `/_tclocal/resources/gaap.listener/${listenerId}?account=${account}`)).json;
    assert.deepEqual(listener.links, [
      { field: 'parent', kind: 'gaap.proxy', id: proxyId, exists: true },
      { field: 'RealServerSet.RealServerId', kind: 'gaap.realserver', id: rs, exists: true },
    ]);
  });

  it('masks private keys in stored data', async () => {
    const pem = selfSigned('console.example.com');
    const { CertificateId } = await gaap.CreateCertificate({
      CertificateType: 2, CertificateAlias: 'web', CertificateContent: encodeURIComponent(pem.cert), CertificateKey: encodeURIComponent(pem.key),
    });
    const { json } = await admin(server, 'GET', `/_tclocal/resources/gaap.certificate/${CertificateId}?account=${account}`);
    const text = JSON.stringify(json);
    const keyBody = pem.key.split('\n')[1];
    assert.ok(!text.includes(keyBody) && !text.includes(encodeURIComponent(keyBody)), 'no private key');
    assert.match(text, /\*\*\*/);
  });

  it('answers unknown kinds, ids and missing accounts with a message', async () => {
    assert.match((await admin(server, 'GET', `/_tclocal/resources/gaap.nothing?account=${account}`)).json.error, /no browsable kind gaap.nothing/);
    const missing = await admin(server, 'GET', `/_tclocal/resources/gaap.proxy/link-none?account=${account}`);
    assert.equal(missing.status, 404);
    assert.match(missing.json.error, /no link-none in account/);
    assert.equal((await admin(server, 'GET', '/_tclocal/resources/gaap.proxy')).status, 400);
    assert.match((await admin(server, 'GET', `/_tclocal/resources/gaap.proxy?account=${account}&limit=5000`)).json.error, /limit must be an integer from 0 to 200/);
  });

  it('serves the console page and its bundle, with a policy that lets it load nothing from elsewhere', async () => {
    const page = await fetch(`${server.url}/_tclocal/ui`);
    assert.equal(page.status, 200);
    assert.match(page.headers.get('content-security-policy')!, /default-src 'none'; script-src 'self'/);
    const html = await page.text();
    assert.match(html, /<script src="\/_tclocal\/ui\/app.js"><\/script>/);
    const js = await fetch(`${server.url}/_tclocal/ui/app.js`);
    assert.equal(js.status, 200);
    assert.match(js.headers.get('content-type')!, /javascript/);
    assert.ok((await js.text()).length > 1000);
    assert.equal((await fetch(`${server.url}/_tclocal/ui/app.css`)).status, 200);
  });

  it('says when no data plane feeds the Traffic view', async () => {
    const off = await startTclocal({ dataplane: false });
    try {
      const { json } = await admin(off, 'GET', '/_tclocal/traffic');
      assert.equal(json.running, false);
      assert.match(json.note, /data plane is not running/);
      // Without a data plane the resource pages carry no live health.
      const { json: list } = await admin(off, 'GET', `/_tclocal/resources/gaap.proxy?account=${DEFAULT_ACCOUNT.uin}`);
      assert.ok(list.items.every((r: { live?: unknown }) => r.live === undefined));
    } finally {
      await off.stop();
    }
  });
});
