/**
 * The real host names route to their product, mainland and international
 * alike, when a client keeps them (here through the SDKs' HTTP proxy option,
 * which tunnels to tclocal with CONNECT).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { RunningServer } from '../../src/server';
import { cnClient, errorCode, startTclocal } from '../helpers';

describe('product host names', () => {
  let server: RunningServer;
  before(async () => {
    server = await startTclocal({ rateLimits: false });
  });
  after(() => server.stop());

  const via = (service: 'gaap' | 'ssl' | 'ams', endpoint: string, signMethod: 'TC3-HMAC-SHA256' | 'HmacSHA256' = 'TC3-HMAC-SHA256') =>
    cnClient(service, server, { endpoint, proxy: `http://127.0.0.1:${server.port}`, signMethod });

  it('ssl.tencentcloudapi.com and ssl.intl.tencentcloudapi.com serve the same certificates', async () => {
    const { CertificateId } = await via('ssl', 'ssl.tencentcloudapi.com').ApplyCertificate({ DvAuthMethod: 'DNS', DomainName: 'hosts.example.com' });
    for (const [host, sign] of [['ssl.intl.tencentcloudapi.com', 'TC3-HMAC-SHA256'], ['ssl.intl.tencentcloudapi.com', 'HmacSHA256'], ['ssl.ap-guangzhou.tencentcloudapi.com', 'TC3-HMAC-SHA256']] as const) {
      const d = await via('ssl', host, sign).DescribeCertificate({ CertificateId });
      assert.equal(d.CertificateId, CertificateId);
    }
    const cancelled = await via('ssl', 'ssl.intl.tencentcloudapi.com', 'HmacSHA256').CancelAuditCertificate({ CertificateId });
    assert.equal(cancelled.Result, true);
  });

  it('ams.tencentcloudapi.com and ams.intl.tencentcloudapi.com serve the same tasks', async () => {
    const created = await via('ams', 'ams.intl.tencentcloudapi.com').CreateAudioModerationTask({ Type: 'LIVE_AUDIO', Tasks: [{ Input: { Url: 'rtmp://live.example.com/a' } }] });
    const TaskId = created.Results[0].TaskId;
    assert.equal((await via('ams', 'ams.tencentcloudapi.com').DescribeTaskDetail({ TaskId })).TaskId, TaskId);
    await via('ams', 'ams.intl.tencentcloudapi.com', 'HmacSHA256').CancelTask({ TaskId });
    assert.equal((await via('ams', 'ams.tencentcloudapi.com').DescribeTaskDetail({ TaskId })).Status, 'CANCELLED');
  });

  it('a call sent to another product’s host is refused (NoSuchVersion), not routed elsewhere', async () => {
    // The gaap client sends its own version and actions; ssl's host does not know them.
    assert.equal(await errorCode(via('gaap', 'ssl.tencentcloudapi.com').DescribeAccessRegions({})), 'NoSuchVersion');
    assert.ok((await via('gaap', 'gaap.intl.tencentcloudapi.com').DescribeAccessRegions({})).TotalCount > 0);
  });
});
