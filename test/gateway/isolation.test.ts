/**
 * Every resource belongs to one account: no request reads or changes another
 * account's resources, whichever signature form it uses.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { RunningServer } from '../../src/server';
import { ACCOUNT_A, ACCOUNT_B, cnClient, errorCode, intlClient, startTclocal } from '../helpers';

describe('account isolation', () => {
  let server: RunningServer;
  before(async () => {
    server = await startTclocal({ rateLimits: false });
  });
  after(() => server.stop());

  it('one account never sees, changes or deletes another account’s resources', async () => {
    const a = cnClient('gaap', server, { account: ACCOUNT_A });
    const b = cnClient('gaap', server, { account: ACCOUNT_B });
    const bIntl = intlClient('gaap', server, { account: ACCOUNT_B });
    const { CertificateId } = await a.CreateCertificate({ CertificateType: 0, CertificateContent: 'alice:$apr1$abcdefgh$0123456789abcdefghijkl', CertificateAlias: 'of-a' });

    assert.equal((await a.DescribeCertificates({})).TotalCount, 1);
    assert.equal((await b.DescribeCertificates({})).TotalCount, 0);
    assert.equal((await bIntl.DescribeCertificates({})).TotalCount, 0);
    assert.notEqual(await errorCode(b.DescribeCertificateDetail({ CertificateId })), undefined);
    assert.notEqual(await errorCode(b.ModifyCertificateAttributes({ CertificateId, CertificateAlias: 'stolen' })), undefined);
    assert.notEqual(await errorCode(bIntl.DeleteCertificate({ CertificateId })), undefined);

    const detail = await a.DescribeCertificateDetail({ CertificateId });
    assert.equal(detail.CertificateDetail.CertificateAlias, 'of-a');
  });

  it('lenient tenants made up for unknown SecretIds are apart from each other and from configured accounts', async () => {
    const x = cnClient('gaap', server, { account: { secretId: 'AKIDstrangerX', secretKey: 'k', appId: 1, uin: '1' } });
    const y = cnClient('gaap', server, { account: { secretId: 'AKIDstrangerY', secretKey: 'k', appId: 1, uin: '1' } });
    await x.CreateCertificate({ CertificateType: 0, CertificateContent: 'xavier:$apr1$abcdefgh$0123456789abcdefghijkl' });
    assert.equal((await x.DescribeCertificates({})).TotalCount, 1);
    assert.equal((await y.DescribeCertificates({})).TotalCount, 0);
    // The same unknown SecretId is the same tenant on every request.
    const x2 = cnClient('gaap', server, { account: { secretId: 'AKIDstrangerX', secretKey: 'other', appId: 1, uin: '1' }, signMethod: 'HmacSHA1' });
    assert.equal((await x2.DescribeCertificates({})).TotalCount, 1);
  });
});
