/**
 * Applying, uploading, listing and deleting SSL certificates through the
 * official SDKs, with real PEM material.
 */
import assert from 'node:assert/strict';
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { RunningServer } from '../../../src/server';
import { assertResponseShape } from '../../support/response-shape';
import { ACCOUNT_A, ACCOUNT_B, cnClient, errorCode, intlClient, startTclocal } from '../../helpers';
import { selfSigned } from '../../../testkit/pem';

describe('SSL certificates', () => {
  let server: RunningServer;
  let cn: any;
  before(async () => {
    server = await startTclocal({ rateLimits: false });
    cn = cnClient('ssl', server, { account: ACCOUNT_A });
  });
  after(() => server.stop());

  it('uploads a certificate with its key: issued, parsed from the PEM', async () => {
    const pem = await selfSigned('api.upload.com', { sans: ['api.upload.com', 'static.upload.com'], rsa: true });
    const res = await cn.UploadCertificate({ CertificatePublicKey: pem.cert, CertificatePrivateKey: pem.key, Alias: 'my-upload', Tags: [{ TagKey: 'env', TagValue: 'test' }] });
    assertResponseShape('ssl', 'UploadCertificate', res);
    assert.match(res.CertificateId, /^[A-Za-z0-9]{8}$/);
    const d = await cn.DescribeCertificateDetail({ CertificateId: res.CertificateId });
    assertResponseShape('ssl', 'DescribeCertificateDetail', d);
    assert.equal(d.Status, 1);
    assert.equal(d.From, 'upload');
    assert.equal(d.Domain, 'api.upload.com');
    assert.deepEqual(d.SubjectAltName, ['static.upload.com']);
    assert.equal(d.Alias, 'my-upload');
    assert.equal(d.DomainType, 2);
    assert.equal(d.CertificatePrivateKey, pem.key);
    assert.deepEqual(d.Tags, [{ TagKey: 'env', TagValue: 'test' }]);
    const x = new X509Certificate(pem.cert);
    assert.equal(d.CertEndTime, new Date(Date.parse(x.validTo) + 8 * 3600_000).toISOString().slice(0, 19).replace('T', ' '));
    const desc = await cn.DescribeCertificate({ CertificateId: res.CertificateId });
    assertResponseShape('ssl', 'DescribeCertificate', desc);
    assert.deepEqual(desc.SubjectAltName, ['api.upload.com', 'static.upload.com']);
    assert.equal(desc.Deployable, true);
  });

  it('refuses a key that does not match, bad PEM, a missing key and a non-CA as CA', async () => {
    const a = await selfSigned('a.example.com', { rsa: true });
    const b = await selfSigned('b.example.com');
    assert.equal(await errorCode(cn.UploadCertificate({ CertificatePublicKey: a.cert, CertificatePrivateKey: b.key })), 'FailedOperation.CertificateMismatch');
    assert.equal(await errorCode(cn.UploadCertificate({ CertificatePublicKey: 'not a pem', CertificatePrivateKey: a.key })), 'FailedOperation.CertificateParseError');
    assert.equal(await errorCode(cn.UploadCertificate({ CertificatePublicKey: a.cert, CertificatePrivateKey: 'garbage' })), 'FailedOperation.CertificateParseError');
    assert.equal(await errorCode(cn.UploadCertificate({ CertificatePublicKey: a.cert })), 'MissingParameter');
    assert.equal(await errorCode(cn.UploadCertificate({ CertificatePublicKey: a.cert, CertificateType: 'CA' })), 'FailedOperation.CertificateCaError');
    const ca = await selfSigned('My Root', { ca: true, rsa: true });
    const up = await cn.UploadCertificate({ CertificatePublicKey: ca.cert, CertificateType: 'CA' });
    const d = await cn.DescribeCertificate({ CertificateId: up.CertificateId });
    assert.equal(d.CertificateType, 'CA');
    assert.equal(d.Deployable, false);
    // An EC certificate with its own key is fine.
    const ec = await cn.UploadCertificate({ CertificatePublicKey: b.cert, CertificatePrivateKey: b.key });
    const ed = await cn.DescribeCertificateDetail({ CertificateId: ec.CertificateId });
    assert.equal(ed.EncryptAlgorithm, 'ECC 256');
  });

  it('Repeatable=false returns the certificate already uploaded', async () => {
    const pem = await selfSigned('repeat.example.com', { rsa: true });
    const first = await cn.UploadCertificate({ CertificatePublicKey: pem.cert, CertificatePrivateKey: pem.key });
    assert.equal(first.RepeatCertId, '');
    const again = await cn.UploadCertificate({ CertificatePublicKey: pem.cert, CertificatePrivateKey: pem.key, Repeatable: false });
    assertResponseShape('ssl', 'UploadCertificate', again);
    assert.equal(again.CertificateId, first.CertificateId);
    assert.equal(again.RepeatCertId, first.CertificateId);
    const third = await cn.UploadCertificate({ CertificatePublicKey: pem.cert, CertificatePrivateKey: pem.key });
    assert.notEqual(third.CertificateId, first.CertificateId);
  });

  it('validates ApplyCertificate parameters', async () => {
    assert.equal(await errorCode(cn.ApplyCertificate({ DvAuthMethod: 'EMAIL', DomainName: 'x.com' })), 'InvalidParameterValue');
    assert.equal(await errorCode(cn.ApplyCertificate({ DvAuthMethod: 'DNS', DomainName: 'not a domain' })), 'InvalidParameterValue');
    assert.equal(await errorCode(cn.ApplyCertificate({ DvAuthMethod: 'DNS', DomainName: 'a'.repeat(61) + '.com' })), 'InvalidParameterValue.CertificateDomainMaxLengthInvalid');
    assert.equal(await errorCode(cn.ApplyCertificate({ DvAuthMethod: 'DNS', DomainName: 'ok.com', ContactEmail: 'nope' })), 'InvalidParameterValue.CertificateEmailParseInvalid');
    assert.equal(await errorCode(cn.ApplyCertificate({ DvAuthMethod: 'DNS', DomainName: 'ok.com', CsrEncryptAlgo: 'ECC' })), 'InvalidParameterValue');
    assert.equal(await errorCode(cn.ApplyCertificate({ DvAuthMethod: 'DNS', DomainName: '*.ok.com' })), 'FailedOperation.InvalidParam');
    assert.equal(await errorCode(cn.ApplyCertificate({ DvAuthMethod: 'DNS' })), 'MissingParameter');
  });

  it('lists with paging, SearchKey, CertificateStatus and CertIds (both SDKs)', async () => {
    const b = cnClient('ssl', server, { account: ACCOUNT_B });
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push((await b.ApplyCertificate({ DvAuthMethod: 'DNS', DomainName: `list${i}.paging.com`, Alias: `alias-${i}` })).CertificateId);
    await b.CancelAuditCertificate({ CertificateId: ids[0] });
    const all = await b.DescribeCertificates({});
    assertResponseShape('ssl', 'DescribeCertificates', all);
    assert.equal(all.TotalCount, 5);
    assert.deepEqual(all.Certificates.map((c: any) => c.CertificateId), [...ids].reverse(), 'newest first');
    const page = await b.DescribeCertificates({ Offset: 1, Limit: 2 });
    assert.equal(page.TotalCount, 5);
    assert.deepEqual(page.Certificates.map((c: any) => c.CertificateId), [ids[3], ids[2]]);
    const search = await b.DescribeCertificates({ SearchKey: 'LIST3' });
    assert.deepEqual(search.Certificates.map((c: any) => c.CertificateId), [ids[3]]);
    const byAlias = await b.DescribeCertificates({ SearchKey: 'alias-4' });
    assert.deepEqual(byAlias.Certificates.map((c: any) => c.CertificateId), [ids[4]]);
    const byId = await b.DescribeCertificates({ SearchKey: ids[2].slice(0, 6) });
    assert.ok(byId.Certificates.some((c: any) => c.CertificateId === ids[2]));
    const cancelled = await b.DescribeCertificates({ CertificateStatus: [7] });
    assertResponseShape('ssl', 'DescribeCertificates', cancelled);
    assert.deepEqual(cancelled.Certificates.map((c: any) => [c.CertificateId, c.StatusName]), [[ids[0], '已取消']]);
    const pending = await b.DescribeCertificates({ IsPendingIssue: 1 });
    assert.equal(pending.TotalCount, 4);
    // The intl SDK sends arrays flattened in a form.
    const intl = intlClient('ssl', server, { account: ACCOUNT_B });
    const viaIntl = await intl.DescribeCertificates({ CertificateStatus: [0, 7], CertIds: [ids[0], ids[1]] });
    assert.equal(viaIntl.TotalCount, 2);
    assert.equal(viaIntl.Certificates.find((c: any) => c.CertificateId === ids[0]).StatusName, 'Canceled');
    const none = await b.DescribeCertificates({ CertificateStatus: [1] });
    assert.equal(none.TotalCount, 0);
    assert.deepEqual(none.Certificates, []);
    // Account A sees none of B's.
    const a = await cn.DescribeCertificates({ SearchKey: 'paging.com' });
    assert.equal(a.TotalCount, 0);
  });

  it('deletes a certificate; reading it afterwards fails with CertificateNotFound', async () => {
    const { CertificateId } = await cn.ApplyCertificate({ DvAuthMethod: 'FILE', DomainName: 'gone.example.com' });
    const res = await cn.DeleteCertificate({ CertificateId });
    assertResponseShape('ssl', 'DeleteCertificate', res);
    assert.equal(res.DeleteResult, true);
    assert.equal(await errorCode(cn.DescribeCertificate({ CertificateId })), 'FailedOperation.CertificateNotFound');
    assert.equal(await errorCode(cn.DescribeCertificateDetail({ CertificateId })), 'FailedOperation.CertificateNotFound');
    assert.equal(await errorCode(cn.DeleteCertificate({ CertificateId })), 'FailedOperation.CertificateNotFound');
    assert.equal(await errorCode(cn.CancelAuditCertificate({ CertificateId })), 'FailedOperation.CertificateNotFoundOrCantCancel');
  });

  it('with a review time of 0 the review completes within ApplyCertificate (ECC key here)', async () => {
    const instant = await startTclocal({ rateLimits: false, sslReviewMs: 0 });
    const cn = cnClient('ssl', instant, { account: ACCOUNT_A });
    try {
      const { CertificateId } = await cn.ApplyCertificate({ DvAuthMethod: 'DNS', DomainName: 'instant.example.com', CsrEncryptAlgo: 'ECC', CsrKeyParameter: 'prime256v1' });
      const d = await cn.DescribeCertificateDetail({ CertificateId });
      assertResponseShape('ssl', 'DescribeCertificateDetail', d);
      assert.equal(d.Status, 1);
      assert.equal(d.EncryptAlgorithm, 'ECC 256');
      const cert = new X509Certificate(d.CertificatePublicKey);
      assert.equal(cert.subjectAltName, 'DNS:instant.example.com');
      assert.ok(cert.checkPrivateKey(createPrivateKey(d.CertificatePrivateKey)));
      assert.equal(await errorCode(cn.CancelAuditCertificate({ CertificateId })), 'FailedOperation.CertificateNotFoundOrCantCancel');
      const list = await cn.DescribeCertificates({ CertIds: [CertificateId] });
      assertResponseShape('ssl', 'DescribeCertificates', list);
      assert.equal(list.Certificates[0].AllowDownload, true);
      // The issued bundle (leaf + CA) uploads as a valid chain; an unrelated certificate after the leaf does not.
      const up = await cn.UploadCertificate({ CertificatePublicKey: d.CertificatePublicKey, CertificatePrivateKey: d.CertificatePrivateKey });
      const ud = await cn.DescribeCertificateDetail({ CertificateId: up.CertificateId });
      assert.equal(ud.Domain, 'instant.example.com');
      assert.equal(ud.ProductZhName, 'tclocal Emulator CA');
      assert.equal(ud.CertChainInfo.length, 2);
      const other = await selfSigned('other.example.com', { rsa: true });
      const leafOnly = d.CertificatePublicKey.split('-----END CERTIFICATE-----')[0] + '-----END CERTIFICATE-----\n';
      assert.equal(await errorCode(cn.UploadCertificate({ CertificatePublicKey: leafOnly + other.cert, CertificatePrivateKey: d.CertificatePrivateKey })), 'FailedOperation.CertificateChainError');
    } finally {
      await instant.stop();
    }
  });

  it('with a review time of 1 s the review completes on its own a moment later', async () => {
    const REVIEW_MS = 1000;
    const timed = await startTclocal({ rateLimits: false, sslReviewMs: REVIEW_MS, transitionMs: 1000 });
    const cn = cnClient('ssl', timed, { account: ACCOUNT_A });
    try {
      // Times are taken around the calls, so a slow machine cannot make the checks wrong: a read answered
      // less than the review time after the application began still says 4 (reviewing), and the issued
      // status cannot be seen before the review time has passed since then.
      const applied = Date.now();
      const { CertificateId } = await cn.ApplyCertificate({ DvAuthMethod: 'DNS_AUTO', DomainName: 'timed.example.com' });
      let status = (await cn.DescribeCertificate({ CertificateId })).Status;
      while (status !== 1 && Date.now() - applied < 20_000) {
        assert.equal(status, 4);
        await new Promise((r) => setTimeout(r, 50));
        status = (await cn.DescribeCertificate({ CertificateId })).Status;
      }
      const issuedSeenAfter = Date.now() - applied;
      assert.equal(status, 1);
      // (less a few milliseconds of timer rounding)
      assert.ok(issuedSeenAfter >= REVIEW_MS - 10, `issued ${issuedSeenAfter} ms after the application, before the review time`);
    } finally {
      await timed.stop();
    }
  });
});
