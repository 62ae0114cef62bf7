/**
 * The Traffic view and the live health of real servers in a real browser:
 * a running proxy with a TCP listener and an origin made through the SDK,
 * real bytes pushed through it on loopback, and the numbers and the
 * origin's health seen in the page as they change.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { connect, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import type { RunningServer } from '../../src/server';
import { tcpOrigin, until, type Origin } from '../dataplane/fixtures';
import { forwardingListener, localRealServer } from '../support/running-proxy';
import { cnClient, DEFAULT_ACCOUNT, startTclocal } from '../helpers';
import { ARTIFACTS, browserMissing, launch } from '../../testkit/browser';

describe('console in Chromium: traffic through the data plane', { skip: browserMissing() }, () => {
  let server: RunningServer;
  let browser: Awaited<ReturnType<typeof launch>>;
  let page: Page;
  let gaap: any;
  let origin: Origin;
  let proxyId: string;
  let listenerId: string;
  let rsId: string;
  let ip: string;
  let port: number;
  const shot = (name: string) => page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });

  before(async () => {
    server = await startTclocal({ dataplaneCheckScale: 0.02, dataplaneCaps: false });
    gaap = cnClient('gaap', server);
    origin = await tcpOrigin('A');
    rsId = await localRealServer(gaap, 'origin-a');
    ({ proxyId, listenerId, ip, port } = await forwardingListener(server, gaap, {
      rsId, name: 'traffic-ui', origins: [{ port: origin.port }],
      settings: { ListenerName: 'tcp-ui', HealthCheck: 1, DelayLoop: 5, ConnectTimeout: 2, HealthyThreshold: 1, UnhealthyThreshold: 1 },
    }));
    browser = await launch();
    page = await browser.context.newPage();
  });
  after(async () => {
    await browser?.close();
    await server?.stop();
    await origin?.close().catch(() => undefined);
  });

  const listener = () => page.locator(`.proxy[data-proxy="${proxyId}"] .listener[data-listener="${listenerId}"]`);
  const value = async (metric: string) => Number(await listener().locator(`[data-metric="${metric}"] .value`).innerText());

  it('charts connections, bandwidth and new connections of bytes pushed through a TCP listener, with the origin healthy', async () => {
    // One connection stays open and streams 64 KiB every 50 ms (echoed back) while the page polls.
    const held: Socket = connect({ host: ip, port });
    held.on('data', () => undefined);
    held.on('error', () => undefined);
    const chunk = Buffer.alloc(64 * 1024, 1);
    const pump = setInterval(() => held.write(chunk), 50);
    try {
      await page.goto(`${server.url}/_tclocal/ui#/traffic`);
      await listener().waitFor();
      assert.match(await listener().locator('h4').innerText(), new RegExp(`TCP ${ip.replaceAll('.', '\\.')}:${port}`));
      // Rates need two polls: wait until the page shows bytes flowing and the open connection.
      await until(async () => (await value('mbps')) > 0 && (await value('connections')) === 1, 'bandwidth and the open connection in the page', 30_000);
      // A few short connections show as new connections per second.
      for (let i = 0; i < 5; i++) await new Promise<void>((resolve) => connect({ host: ip, port }).on('data', function (this: Socket) { this.destroy(); resolve(); }));
      await until(async () => (await value('per-second')) > 0, 'new connections per second in the page', 30_000);
      assert.ok(Number(await listener().locator('[data-total="accepted"]').innerText()) >= 6);
      assert.match(await listener().locator('[data-total="bytes-in"]').innerText(), /KiB|MiB/);
      const row = listener().locator(`tr[data-origin="127.0.0.1:${origin.port}"]`);
      assert.match(await row.innerText(), new RegExp(`${rsId}[\\s\\S]*healthy`));
      assert.equal(await row.locator('.badge.ok').count(), 1);
      await shot('traffic-1-flowing');
    } finally {
      clearInterval(pump);
      held.destroy();
    }
  });

  it('shows the origin turning unhealthy, over time, when it goes away', async () => {
    await origin.close();
    const row = listener().locator(`tr[data-origin="127.0.0.1:${origin.port}"]`);
    await row.locator('.badge.err').filter({ hasText: 'unhealthy' }).waitFor();
    // The health strip keeps the earlier healthy polls beside the new unhealthy ones.
    await row.locator('.health-strip i.err').first().waitFor();
    assert.ok((await row.locator('.health-strip i.ok').count()) > 0);
    await until(async () => (await value('healthy')) === 0, 'the healthy share to fall to 0', 30_000);
    await shot('traffic-2-unhealthy');
  });

  it('shows the live health on the real server page and in the real server list', async () => {
    const account = DEFAULT_ACCOUNT.uin;
    await page.goto(`${server.url}/_tclocal/ui#/resource/gaap.realserver/${rsId}?account=${account}`);
    const live = page.locator('#live-health');
    await live.waitFor();
    const row = live.locator('tr', { hasText: listenerId });
    assert.match(await row.innerText(), new RegExp(`${proxyId}[\\s\\S]*unhealthy`));
    await shot('traffic-3-real-server-live');
    await page.goto(`${server.url}/_tclocal/ui#/resources?account=${account}&kind=gaap.realserver`);
    const badge = page.locator(`table[data-kind="gaap.realserver"] tr[data-id="${rsId}"] .badge.live`);
    await badge.waitFor();
    assert.equal(await badge.innerText(), '0/1 healthy');
  });
});
