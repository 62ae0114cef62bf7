/**
 * CancelAuditCertificate and the review around it, through the official
 * SDKs: accepted in Status 0, 4 and 8; refused once issued, once cancelled,
 * for uploads, unknown ids and other accounts; and under its 10/s limit.
 */
import assert from 'node:assert/strict';
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { RunningServer } from '../../../src/server';
import { assertResponseShape } from '../../support/response-shape';
import { ACCOUNT_A, ACCOUNT_B, advance, cnClient, errorCode, intlClient, MANUAL_TRANSITIONS, startTclocal } from '../../helpers';
import { inOneSecond } from '../../support/one-second';
import { selfSigned } from '../../../testkit/pem';

const NOT_CANCELLABLE = 'FailedOperation.CertificateNotFoundOrCantCancel';

describe('SSL CancelAuditCertificate and the review lifecycle', () => {
  let server: RunningServer;
  let cn: any;
  let intl: any;
  before(async () => {
    server = await startTclocal({ ...MANUAL_TRANSITIONS, rateLimits: false });
    cn = cnClient('ssl', server, { account: ACCOUNT_A });
    intl = intlClient('ssl', server, { account: ACCOUNT_A });
  });
  after(() => server.stop());

  async function apply(method: string, domain: string, client = cn): Promise<string> {
    const res = await client.ApplyCertificate({ DvAuthMethod: method, DomainName: domain });
    assertResponseShape('ssl', 'ApplyCertificate', res);
    assert.match(res.CertificateId, /^[A-Za-z0-9]{8}$/);
    return res.CertificateId;
  }

  async function status(id: string, client = cn): Promise<any> {
    const res = await client.DescribeCertificateDetail({ CertificateId: id });
    // The intl SDK drops the mainland-only fields of the model when it
    // deserializes (DomainType, CertificateExtra.ServiceRenewCertificateId...):
    // the full shape is checked on the mainland client's responses.
    if (client !== intl) assertResponseShape('ssl', 'DescribeCertificateDetail', res);
    return res;
  }

  it('cancels a DNS review (Status 0): Result true, then Status 7 已取消', async () => {
    const id = await apply('DNS', 'www.cancel-dns.com');
    const before = await cn.DescribeCertificate({ CertificateId: id });
    assertResponseShape('ssl', 'DescribeCertificate', before);
    assert.equal(before.Status, 0);
    assert.equal(before.StatusName, '审核中');
    assert.equal(before.VerifyType, 'DNS');
    assert.equal(before.StatusMsg, 'PENDING-DCV');
    assert.equal(before.DvAuthDetail.DvAuthKey, '_dnsauth.www');
    assert.equal(before.DvAuthDetail.DvAuthDomain, 'cancel-dns.com');
    assert.equal(before.DvAuthDetail.DvAuths[0].DvAuthVerifyType, 'TXT');
    assert.ok(before.DvAuthDetail.DvAuthValue.length > 20);
    assert.deepEqual(before.SubjectAltName, ['www.cancel-dns.com', 'cancel-dns.com']);
    assert.equal((await status(id)).DomainType, 1, 'a name with its www twin is a single domain');

    const res = await cn.CancelAuditCertificate({ CertificateId: id });
    assertResponseShape('ssl', 'CancelAuditCertificate', res);
    assert.equal(res.Result, true);
    const after = await status(id);
    assert.equal(after.Status, 7);
    assert.equal(after.StatusName, '已取消');
    assert.equal(after.CertificatePublicKey, null);

    // The scheduled issue of the cancelled review changes nothing.
    assert.ok((await advance(server)) >= 1);
    assert.equal((await status(id)).Status, 7);
  });

  it('cancels a DNS_AUTO review (Status 4) through the intl SDK, in English', async () => {
    const id = await apply('DNS_AUTO', 'auto-cancel.net', intl);
    const before = await intl.DescribeCertificate({ CertificateId: id });
    assertResponseShape('ssl', 'DescribeCertificate', await cn.DescribeCertificate({ CertificateId: id }));
    assert.equal(before.Status, 4);
    assert.equal(before.StatusName, 'DNS records added automatically');
    assert.equal(before.VerifyType, 'DNS_AUTO');
    assert.equal(before.DvAuthDetail.DvAuthKey, '_dnsauth');
    const res = await intl.CancelAuditCertificate({ CertificateId: id });
    assertResponseShape('ssl', 'CancelAuditCertificate', res);
    assert.equal(res.Result, true);
    const after = await status(id, intl);
    assert.equal(after.Status, 7);
    assert.equal(after.StatusName, 'Canceled');
  });

  it('cancels a FILE review, whose validation asks for a file', async () => {
    const id = await apply('FILE', 'files.example.org');
    const d = await status(id);
    assert.equal(d.VerifyType, 'FILE');
    assert.equal(d.DvAuthDetail.DvAuthPath, '/.well-known/pki-validation/');
    assert.equal(d.DvAuthDetail.DvAuthKey, 'fileauth.txt');
    assert.equal(d.DvAuthDetail.DvAuths[0].DvAuthVerifyType, 'FILE');
    assert.equal((await cn.CancelAuditCertificate({ CertificateId: id })).Result, true);
    assert.equal((await status(id)).Status, 7);
  });

  it('cancels a certificate whose documents are submitted (Status 8)', async () => {
    const id = await apply('DNS', 'paid-like.com');
    // Status 8 is only reached by the paid-order flow, which tclocal does not
    // emulate: put the certificate there through a state export and import.
    const dump = (await (await fetch(server.url + "/_tclocal/state")).json()) as any;
    const row = dump.tables.resources.find((r: any) => r.kind === 'ssl.certificate' && r.id === id);
    assert.ok(row, 'the certificate is in the state export');
    const data = JSON.parse(row.data);
    data.Status = 8;
    row.data = JSON.stringify(data);
    row.status = '8';
    const imported = await fetch(server.url + '/_tclocal/state', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(dump) });
    assert.equal(imported.status, 200);
    const mid = await status(id);
    assert.equal(mid.Status, 8);
    assert.equal(mid.StatusName, '已提交资料，待上传确认函');
    assert.equal((await cn.CancelAuditCertificate({ CertificateId: id })).Result, true);
    assert.equal((await status(id)).Status, 7);
  });

  it('too late: once the review completes the certificate is issued for the domain and cannot be cancelled', async () => {
    const id = await apply('DNS', 'late.example.com');
    assert.equal((await status(id)).Status, 0);
    assert.ok((await advance(server)) >= 1);
    const d = await status(id);
    assert.equal(d.Status, 1);
    assert.equal(d.StatusName, '已颁发');
    assert.equal(d.DvAuthDetail.DvAuthKey, null);
    assert.equal(d.DvAuthDetail.DvAuthKeySubDomain, '');
    assert.deepEqual(d.SubjectAltName, []);
    assert.equal(d.EncryptAlgorithm, 'RSA 2048');
    const cert = new X509Certificate(d.CertificatePublicKey);
    assert.equal(cert.subjectAltName, 'DNS:late.example.com');
    assert.ok(cert.checkPrivateKey(createPrivateKey(d.CertificatePrivateKey)));
    assert.ok(cert.verify(new X509Certificate(d.RootCert.Standard).publicKey), 'signed by the emulator CA');
    assert.equal(d.CertFingerprint, cert.fingerprint.replace(/:/g, '').toLowerCase());
    assert.equal(d.CertBeginTime, new Date(Date.parse(cert.validFrom) + 8 * 3600_000).toISOString().slice(0, 19).replace('T', ' '));
    assert.equal(d.CertChainInfo.length, 2);

    assert.equal(await errorCode(cn.CancelAuditCertificate({ CertificateId: id })), NOT_CANCELLABLE);
    assert.equal((await status(id)).Status, 1);
  });

  it('refuses a second cancel, an uploaded certificate and an unknown id', async () => {
    const id = await apply('DNS', 'twice.example.com');
    assert.equal((await cn.CancelAuditCertificate({ CertificateId: id })).Result, true);
    assert.equal(await errorCode(cn.CancelAuditCertificate({ CertificateId: id })), NOT_CANCELLABLE);

    const pem = await selfSigned('uploaded.example.com', { rsa: true });
    const up = await cn.UploadCertificate({ CertificatePublicKey: pem.cert, CertificatePrivateKey: pem.key });
    assert.equal(await errorCode(cn.CancelAuditCertificate({ CertificateId: up.CertificateId })), NOT_CANCELLABLE);
    assert.equal((await status(up.CertificateId)).Status, 1);

    assert.equal(await errorCode(cn.CancelAuditCertificate({ CertificateId: 'Nope1234' })), NOT_CANCELLABLE);
    assert.equal(await errorCode(intl.CancelAuditCertificate({ CertificateId: 'Nope1234' })), NOT_CANCELLABLE);
  });

  it("another account cannot cancel (or see) account A's review", async () => {
    const id = await apply('DNS', 'mine.example.com');
    const b = cnClient('ssl', server, { account: ACCOUNT_B });
    assert.equal(await errorCode(b.CancelAuditCertificate({ CertificateId: id })), NOT_CANCELLABLE);
    assert.equal(await errorCode(intlClient('ssl', server, { account: ACCOUNT_B }).CancelAuditCertificate({ CertificateId: id })), NOT_CANCELLABLE);
    assert.equal(await errorCode(b.DescribeCertificate({ CertificateId: id })), 'FailedOperation.CertificateNotFound');
    assert.equal((await status(id)).Status, 0);
    assert.equal((await cn.CancelAuditCertificate({ CertificateId: id })).Result, true);
  });

  it('ModifyCertificateResubmit restarts a cancelled review, which can be cancelled again or completes', async () => {
    const id = await apply('DNS_AUTO', 'again.example.com');
    assert.equal(await errorCode(cn.ModifyCertificateResubmit({ CertificateId: id })), 'FailedOperation.CertificateStatusNotAllowResubmit');
    await cn.CancelAuditCertificate({ CertificateId: id });
    const res = await cn.ModifyCertificateResubmit({ CertificateId: id });
    assertResponseShape('ssl', 'ModifyCertificateResubmit', res);
    assert.equal(res.CertificateId, id);
    assert.equal((await status(id)).Status, 4);
    assert.equal((await cn.CancelAuditCertificate({ CertificateId: id })).Result, true);
    await cn.ModifyCertificateResubmit({ CertificateId: id });
    await advance(server);
    assert.equal((await status(id)).Status, 1);
    assert.equal(await errorCode(cn.ModifyCertificateResubmit({ CertificateId: 'Nope1234' })), 'FailedOperation.CertificateNotFound');
  });
});

describe('SSL CancelAuditCertificate rate limit', () => {
  let server: RunningServer;
  before(async () => {
    server = await startTclocal({ rateLimits: true });
  });
  after(() => server.stop());

  it('answers RequestLimitExceeded beyond 10 calls per second per account', async () => {
    const cn = cnClient('ssl', server, { account: ACCOUNT_A });
    // All 25 calls in one one-second window (on a loaded machine a burst can straddle more).
    const codes = await inOneSecond(async () => undefined, () => Promise.all(
      Array.from({ length: 25 }, () => errorCode(cn.CancelAuditCertificate({ CertificateId: 'Nope1234' }))),
    ));
    const limited = codes.filter((c) => c === 'RequestLimitExceeded').length;
    const served = codes.filter((c) => c === NOT_CANCELLABLE).length;
    assert.equal(limited + served, 25, codes.join(','));
    assert.equal(served, 10, `served ${served}`);
    // Another account has its own budget.
    const b = cnClient('ssl', server, { account: ACCOUNT_B });
    assert.equal(await errorCode(b.CancelAuditCertificate({ CertificateId: 'Nope1234' })), NOT_CANCELLABLE);
  });
});
