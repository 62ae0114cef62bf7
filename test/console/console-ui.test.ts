/**
 * The console in a real browser: a proxy created through the SDK appears,
 * leads to its listeners, a failed call is found in the request log with
 * its code, and a fault injected from the console makes an SDK call fail
 * until it is cleared. Screenshots go to test-artifacts/console/.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import type { RunningServer } from '../../src/server';
import { cnClient, errorCode, MANUAL_TRANSITIONS, startTclocal } from '../helpers';
import { admin } from './admin-client';
import { ARTIFACTS, browserMissing, launch } from '../../testkit/browser';

describe('console in Chromium', { skip: browserMissing() }, () => {
  let server: RunningServer;
  let browser: Awaited<ReturnType<typeof launch>>;
  let page: Page;
  let gaap: any;
  /** Every URL the page asked for: all must be tclocal's own. */
  const requested: string[] = [];
  const shot = (name: string) => page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });

  before(async () => {
    // Manual transitions: the console shows what is pending until it is advanced. No data plane: the Traffic tab says so.
    server = await startTclocal({ ...MANUAL_TRANSITIONS, dataplane: false });
    gaap = cnClient('gaap', server);
    browser = await launch();
    page = await browser.context.newPage();
    page.on('dialog', (d) => void d.accept());
    page.on('request', (r) => requested.push(r.url()));
  });
  after(async () => {
    await browser?.close();
    await server?.stop();
  });

  it('shows a proxy created through the SDK while it is open, its pending transition, and advances it', async () => {
    await page.goto(`${server.url}/_tclocal/ui`);
    await page.locator('table[data-kind="gaap.proxy"]').waitFor();
    const { InstanceId: proxyId } = await gaap.CreateProxy({
      ProjectId: 0, ProxyName: 'console-proxy', AccessRegion: 'Guangzhou', RealServerRegion: 'Beijing', Bandwidth: 10, Concurrent: 2,
    });
    const row = page.locator(`table[data-kind="gaap.proxy"] tr[data-id="${proxyId}"]`);
    await row.waitFor();
    assert.match(await row.innerText(), /console-proxy/);
    assert.match(await row.innerText(), /CREATING/);
    assert.match(await row.locator('.badge.pending').innerText(), /\S/);
    await shot('1-proxy-created');

    await page.click('#tab-controls');
    await page.click('#advance');
    await page.locator('#control-result').filter({ hasText: 'applied' }).waitFor();
    await page.click('#tab-resources');
    await page.locator(`tr[data-id="${proxyId}"]`).filter({ hasText: 'RUNNING' }).waitFor();
    await shot('2-proxy-running');
  });

  it('follows a proxy to its listeners', async () => {
    const { ProxySet } = await gaap.DescribeProxies({});
    const proxyId = ProxySet[0].ProxyId;
    const { ListenerIds } = await gaap.CreateTCPListeners({ ListenerName: 'console-tcp', Ports: [9000], Scheduler: 'rr', HealthCheck: 0, RealServerType: 'IP', ProxyId: proxyId });
    await admin(server, 'POST', '/_tclocal/transitions/advance', {});
    await page.click('#tab-resources');
    await page.click(`tr[data-id="${proxyId}"] a`);
    const listeners = page.locator('[data-children="gaap.listener"]');
    await listeners.waitFor();
    assert.match(await listeners.innerText(), /console-tcp/);
    await listeners.locator(`tr[data-id="${ListenerIds[0]}"] a`).click();
    await page.locator('.detail h2').filter({ hasText: 'console-tcp' }).waitFor();
    assert.match(await page.locator('.links').innerText(), new RegExp(`belongs to.*${proxyId}`));
    assert.match(await page.locator('pre.json').innerText(), /"Port": 9000/);
    await shot('3-listener-detail');
  });

  it('finds a failed call in the request log with its error code', async () => {
    const code = await errorCode(gaap.DescribeProxyDetail({ ProxyId: 'link-notthere' }));
    await page.click('#tab-requests');
    await page.fill('#filter-code', '*');
    await page.press('#filter-code', 'Enter');
    const row = page.locator('#requests tr.failed').filter({ hasText: 'DescribeProxyDetail' }).first();
    await row.waitFor();
    assert.match(await row.innerText(), new RegExp(code.replace('.', '\\.')));
    await row.click();
    const detail = page.locator('#call-detail');
    await detail.waitFor();
    assert.match(await detail.locator('#call-params').innerText(), /link-notthere/);
    assert.match(await detail.locator('#call-response').innerText(), new RegExp(code.replace('.', '\\.')));
    await shot('4-failed-call');
  });

  it('injects a fault that an SDK call then meets, refuses a bad one, and clears it', async () => {
    await page.click('#tab-faults');
    await page.fill('#fault-service', 'gaap');
    await page.fill('#fault-action', 'DescribeProxies');
    await page.fill('#fault-error', 'ResourceNotFound.NoSuchThing');
    await page.click('#fault-add');
    assert.match(await page.locator('#fault-problem').innerText(), /not documented for gaap DescribeProxies/);

    await page.fill('#fault-error', 'FailedOperation.UserNotConfirmProtocol');
    await page.click('#fault-add');
    await page.locator('#faults tr[data-fault]').first().waitFor();
    assert.equal(await errorCode(gaap.DescribeProxies({})), 'FailedOperation.UserNotConfirmProtocol');
    await page.locator('#faults tr[data-fault] td.num').filter({ hasText: /^1$/ }).waitFor();
    await shot('5-fault-active');

    await page.click('#fault-clear');
    await page.locator('#faults tr[data-fault]').first().waitFor({ state: 'detached' });
    assert.equal((await gaap.DescribeProxies({})).TotalCount, 1);
  });

  it('says the data plane is not running on the Traffic tab', async () => {
    await page.click('#tab-traffic');
    const note = page.locator('#traffic-note');
    await note.waitFor();
    assert.match(await note.innerText(), /data plane is not running/);
    await shot('6-traffic');
  });

  it('takes the admin token from its address into session storage and sends it as a header, never in a URL', async () => {
    const tokenPage = await browser.context.newPage();
    const sent: Array<{ url: string; token?: string }> = [];
    tokenPage.on('request', (r) => sent.push({ url: r.url(), token: r.headers()['x-tclocal-admin-token'] }));
    await tokenPage.goto(`${server.url}/_tclocal/ui?token=s3cret-token#/requests`);
    await tokenPage.locator('#requests').waitFor();
    assert.equal(new URL(tokenPage.url()).search, '');
    assert.equal(await tokenPage.evaluate('sessionStorage.getItem("tclocal.adminToken")'), 's3cret-token');
    const api = sent.filter((r) => r.url.includes('/_tclocal/requests'));
    assert.ok(api.length > 0 && api.every((r) => r.token === 's3cret-token'));
    assert.ok(sent.slice(1).every((r) => !r.url.includes('s3cret')), 'the token appears in no later URL');
    await tokenPage.close();
  });

  it('loaded nothing from anywhere but tclocal', () => {
    assert.ok(requested.length > 10);
    assert.deepEqual(requested.filter((u) => !u.startsWith(`${server.url}/_tclocal/`)), []);
  });
});
