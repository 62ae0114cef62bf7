/**
 * Callbacks whose URL a caller aimed at tclocal itself (CI and AMS): refused,
 * and every account's state stays as it was.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { RunningServer } from '../../src/server';
import { ACCOUNT_A, ACCOUNT_B, cnClient, startTclocal } from '../helpers';
import { pathReceiver } from '../support/receiver';
import { ciClient, liveRequest } from '../../testkit/cos-client';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));


describe('callbacks aimed at tclocal itself', () => {
  let server: RunningServer;
  before(async () => {
    server = await startTclocal({ rateLimits: false });
  });
  after(() => server.stop());

  it('a CI job callback to tclocal\'s own reset endpoint is refused and the state stays intact', async () => {
    const a = cnClient('gaap', server, { account: ACCOUNT_A });
    const b = cnClient('gaap', server, { account: ACCOUNT_B });
    await a.CreateCertificate({ CertificateType: 0, CertificateContent: 'user1:$apr1$abcdefgh$0123456789abcdefghijkl' });
    await b.CreateCertificate({ CertificateType: 0, CertificateContent: 'user2:$apr1$abcdefgh$0123456789abcdefghijkl' });
    const rx = await pathReceiver();
    try {
      const ci = ciClient({ port: server.port, account: ACCOUNT_B });
      for (const host of ['127.0.0.1', 'localhost', '[::1]']) {
        const job = (await ci.submit(liveRequest({ callback: `http://${host}:${server.port}/_tclocal/reset`, callbackType: 2 }))).Response.JobsDetail.JobId;
        await ci.cancel(job);
      }
      // A callback sent after those, to a real receiver: once it arrived, the ones before were tried.
      const marker = (await ci.submit(liveRequest({ callback: `http://127.0.0.1:${rx.port}/after`, callbackType: 2 }))).Response.JobsDetail.JobId;
      await ci.cancel(marker);
      for (let i = 0; i < 100 && rx.hits.length === 0; i++) await sleep(50);
      assert.deepEqual(rx.hits, ['/after']);
      await sleep(300);
      assert.equal((await a.DescribeCertificates({})).TotalCount, 1);
      assert.equal((await b.DescribeCertificates({})).TotalCount, 1);
    } finally {
      rx.server.close();
    }
  });

  it('an AMS callback to tclocal\'s own port is refused too', async () => {
    const a = cnClient('gaap', server, { account: ACCOUNT_A });
    const before = (await a.DescribeCertificates({})).TotalCount;
    assert.ok(before > 0);
    const rx = await pathReceiver();
    try {
      const ams = cnClient('ams', server);
      await ams.CreateAudioModerationTask({
        CallbackUrl: `http://127.0.0.1:${server.port}/_tclocal/reset`, BizType: 'biz_1',
        Tasks: [{ DataId: 'd1', Input: { Url: 'https://media.example.com/a.mp3' } }],
      });
      await ams.CreateAudioModerationTask({
        CallbackUrl: `http://127.0.0.1:${rx.port}/after`, BizType: 'biz_1',
        Tasks: [{ DataId: 'd2', Input: { Url: 'https://media.example.com/b.mp3' } }],
      });
      for (let i = 0; i < 100 && rx.hits.length === 0; i++) await sleep(50);
      assert.deepEqual(rx.hits, ['/after']);
      await sleep(300);
      assert.equal((await a.DescribeCertificates({})).TotalCount, before);
    } finally {
      rx.server.close();
    }
  });
});
