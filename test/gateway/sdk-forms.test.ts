/**
 * Every request form the official SDKs send reaches the same action and
 * answers the same envelope: TC3 JSON, v1 form with HmacSHA256/HmacSHA1,
 * GET (TC3 and v1), and the international SDK's default form.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { RunningServer } from '../../src/server';
import { ACCOUNT_A, cnClient, intlClient, startTclocal } from '../helpers';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('request forms of the official SDKs', () => {
  let server: RunningServer;
  before(async () => {
    server = await startTclocal();
  });
  after(() => server.stop());

  const variants: Array<[string, () => any]> = [
    ['CN SDK, TC3 POST JSON', () => cnClient('gaap', server)],
    ['CN SDK, TC3 GET', () => cnClient('gaap', server, { reqMethod: 'GET' })],
    ['CN SDK, HmacSHA256 POST form', () => cnClient('gaap', server, { signMethod: 'HmacSHA256' })],
    ['CN SDK, HmacSHA1 POST form', () => cnClient('gaap', server, { signMethod: 'HmacSHA1' })],
    ['CN SDK, HmacSHA1 GET', () => cnClient('gaap', server, { signMethod: 'HmacSHA1', reqMethod: 'GET' })],
    ['CN SDK, HmacSHA256 GET, account A', () => cnClient('gaap', server, { signMethod: 'HmacSHA256', reqMethod: 'GET', account: ACCOUNT_A })],
    ['intl SDK, default (form + HmacSHA256)', () => intlClient('gaap', server)],
    ['intl SDK, TC3 POST JSON', () => intlClient('gaap', server, { signMethod: 'TC3-HMAC-SHA256' })],
    ['intl SDK, TC3 GET', () => intlClient('gaap', server, { signMethod: 'TC3-HMAC-SHA256', reqMethod: 'GET' })],
  ];

  for (const [name, make] of variants) {
    it(`${name}: a catalogue read succeeds`, async () => {
      const res = await make().DescribeAccessRegions({});
      assert.match(res.RequestId, UUID);
      assert.ok(res.TotalCount > 0);
      assert.equal(res.AccessRegionSet.length, res.TotalCount);
    });

    it(`${name}: nested, flattened parameters arrive typed`, async () => {
      // Filters.0.Values.0 and a numeric Limit: validation must accept them
      // whatever the form; an unknown filter value simply matches nothing.
      const res = await make().DescribeAccessRegionsByDestRegion({ DestRegion: 'Hongkong' });
      assert.ok(res.TotalCount > 0);
      for (const r of res.AccessRegionSet) {
        assert.equal(typeof r.RegionId, 'string');
        assert.ok(Array.isArray(r.BandwidthList) && r.BandwidthList.every((b: unknown) => typeof b === 'number'));
      }
    });
  }

  it('a client behind an HTTP proxy reaches tclocal with the real host name (CONNECT tunnel)', async () => {
    for (const signMethod of ['TC3-HMAC-SHA256', 'HmacSHA256'] as const) {
      const client = cnClient('gaap', server, { endpoint: 'gaap.tencentcloudapi.com', proxy: `http://127.0.0.1:${server.port}`, signMethod });
      const res = await client.DescribeAccessRegions({});
      assert.ok(res.TotalCount > 0);
    }
  });

  it('absolute-form requests (as proxy-configured tools send them) are served', async () => {
    const res = await new Promise<string>((resolve, reject) => {
      const req = require('node:http').request(
        { host: '127.0.0.1', port: server.port, method: 'POST', path: 'http://gaap.tencentcloudapi.com/', headers: { host: 'gaap.tencentcloudapi.com', 'content-type': 'application/json', 'x-tc-action': 'DescribeDestRegions', 'x-tc-version': '2018-05-29' } },
        (r: any) => {
          let d = '';
          r.on('data', (c: string) => (d += c));
          r.on('end', () => resolve(d));
        },
      );
      req.on('error', reject);
      req.end('{}');
    });
    assert.ok(JSON.parse(res).Response.TotalCount > 0);
  });

  it('a validation error names the parameter, in every form', async () => {
    for (const [, make] of variants) {
      await assert.rejects(make().DescribeAccessRegionsByDestRegion({}), (e: any) => e.code === 'MissingParameter' && /DestRegion/.test(e.message));
    }
  });
});
