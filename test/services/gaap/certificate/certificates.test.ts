import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { RunningServer } from '../../../../src/server';
import { ACCOUNT_A, ACCOUNT_B, cnClient, errorCode, startTclocal } from '../../../helpers';
import { assertResponseShape } from '../../../support/response-shape';
import { selfSigned } from '../../../../testkit/pem';

/**
 * The spec lists BeginTime/EndTime as plain integers, but the real service
 * (and Terraform, which relies on it) returns null in the detail of a
 * basic-auth file; the list, whose model allows no null, answers 0.
 * Everything else of the shape must hold.
 */
function assertShapeAllowingNullValidity(action: string, res: Record<string, unknown>): void {
  const detail = (res as any).CertificateDetail;
  const certs: any[] = detail ? [detail] : (res as any).CertificateSet;
  for (const c of certs) {
    if (c.CertificateType === 0) {
      assert.equal(c.BeginTime, detail ? null : 0);
      assert.equal(c.EndTime, detail ? null : 0);
    }
  }
  // The model's known exception (src/spec/response-check.ts KNOWN_NULLS) covers these nulls.
  assertResponseShape('gaap', action, res);
}

describe('GAAP certificates', () => {
  let server: RunningServer;
  let gaap: any;
  let server1: { cert: string; key: string };
  let other: { cert: string; key: string };
  before(async () => {
    server = await startTclocal({ rateLimits: false });
    gaap = cnClient('gaap', server);
    server1 = selfSigned('www.example.com', { sans: ['*.example.com', 'example.com'] });
    other = selfSigned('other.test', { sans: [] });
  });
  after(async () => {
    await server.stop();
  });

  it('creates a server SSL certificate from URL-encoded PEM and reads it back parsed', async () => {
    const res = await gaap.CreateCertificate({
      CertificateType: 2,
      CertificateAlias: 'web',
      CertificateContent: encodeURIComponent(server1.cert),
      CertificateKey: encodeURIComponent(server1.key),
    });
    assertResponseShape('gaap', 'CreateCertificate', res);
    assert.match(res.CertificateId, /^cert-[a-z0-9]{8}$/);
    const detail = await gaap.DescribeCertificateDetail({ CertificateId: res.CertificateId });
    assertResponseShape('gaap', 'DescribeCertificateDetail', detail);
    const d = detail.CertificateDetail;
    assert.equal(d.CertificateType, 2);
    assert.equal(d.CertificateAlias, 'web');
    assert.equal(d.SubjectCN, 'www.example.com');
    assert.equal(d.IssuerCN, 'www.example.com');
    assert.ok(d.CertificateContent.startsWith('-----BEGIN CERTIFICATE-----'));
    assert.ok(d.CertificateKey.includes('PRIVATE KEY'));
    const now = Math.floor(Date.now() / 1000);
    assert.ok(d.BeginTime <= now + 5 && d.BeginTime > now - 3600, `BeginTime ${d.BeginTime}`);
    assert.ok(d.EndTime - d.BeginTime >= 3649 * 86400);
    assert.ok(Math.abs(d.CreateTime - now) < 60);
  });

  it('accepts raw PEM as well (the doc example 2 form)', async () => {
    const res = await gaap.CreateCertificate({ CertificateType: 4, CertificateContent: other.cert, CertificateKey: other.key });
    assertResponseShape('gaap', 'CreateCertificate', res);
    const { CertificateDetail: d } = await gaap.DescribeCertificateDetail({ CertificateId: res.CertificateId });
    assert.equal(d.CertificateAlias, '');
    assert.equal(d.SubjectCN, 'other.test');
  });

  it('creates CA certificates (types 1 and 3) without a key', async () => {
    for (const type of [1, 3]) {
      const res = await gaap.CreateCertificate({ CertificateType: type, CertificateContent: encodeURIComponent(other.cert), CertificateAlias: `ca${type}` });
      const { CertificateDetail: d } = await gaap.DescribeCertificateDetail({ CertificateId: res.CertificateId });
      assert.equal(d.CertificateType, type);
      assert.equal(d.CertificateKey, '');
      assert.equal(d.IssuerCN, 'other.test');
    }
  });

  it('creates a basic-auth configuration (type 0) with null validity', async () => {
    const res = await gaap.CreateCertificate({ CertificateType: 0, CertificateContent: 'test:tx2KGdo3zJg/.', CertificateAlias: '' });
    const detail = await gaap.DescribeCertificateDetail({ CertificateId: res.CertificateId });
    assertShapeAllowingNullValidity('DescribeCertificateDetail', detail);
    const d = detail.CertificateDetail;
    assert.equal(d.CertificateType, 0);
    assert.equal(d.CertificateContent, 'test:tx2KGdo3zJg/.');
    assert.equal(d.BeginTime, null);
    assert.equal(d.EndTime, null);
    assert.equal(d.IssuerCN, '');
    assert.equal(d.SubjectCN, '');
    // URL-encoded, several users
    const two = await gaap.CreateCertificate({ CertificateType: 0, CertificateContent: encodeURIComponent('a:$1$lmMXTCFL$ATekh1xvepuO8HjMITK5G1\nb:FSGdT') });
    assert.match(two.CertificateId, /^cert-/);
  });

  it('rejects unreadable content, unreadable keys, missing keys and mismatched pairs', async () => {
    assert.equal(await errorCode(gaap.CreateCertificate({ CertificateType: 2, CertificateContent: 'not a pem', CertificateKey: server1.key })), 'InvalidParameterValue.InvalidCertificateContent');
    const broken = server1.cert.replace(/\n[A-Za-z0-9+/]{20}/, '\n!!!!');
    assert.equal(await errorCode(gaap.CreateCertificate({ CertificateType: 1, CertificateContent: broken })), 'InvalidParameterValue.InvalidCertificateContent');
    assert.equal(await errorCode(gaap.CreateCertificate({ CertificateType: 0, CertificateContent: 'no colon here' })), 'InvalidParameterValue.InvalidCertificateContent');
    assert.equal(await errorCode(gaap.CreateCertificate({ CertificateType: 2, CertificateContent: server1.cert, CertificateKey: 'garbage' })), 'InvalidParameterValue.InvalidCertificateKey');
    assert.equal(await errorCode(gaap.CreateCertificate({ CertificateType: 2, CertificateContent: server1.cert })), 'InvalidParameterValue.InvalidCertificateKey');
    assert.equal(await errorCode(gaap.CreateCertificate({ CertificateType: 4, CertificateContent: server1.cert, CertificateKey: other.key })), 'InvalidParameterValue.CertificateContentNotMatchKey');
    assert.equal(await errorCode(gaap.CreateCertificate({ CertificateType: 7, CertificateContent: server1.cert })), 'InvalidParameterValue');
    assert.equal(await errorCode(gaap.CreateCertificate({ CertificateType: 1, CertificateContent: server1.cert, CertificateAlias: 'x'.repeat(51) })), 'InvalidParameterValue');
  });

  it('lists with a type filter and paging', async () => {
    const all = await gaap.DescribeCertificates({});
    assertShapeAllowingNullValidity('DescribeCertificates', all);
    assert.equal(all.TotalCount, all.CertificateSet.length);
    assert.ok(all.TotalCount >= 6);
    for (const c of all.CertificateSet) assert.equal(c.CertificateName, c.CertificateAlias);
    const ssl = await gaap.DescribeCertificates({ CertificateType: 2 });
    assertResponseShape('gaap', 'DescribeCertificates', ssl);
    assert.ok(ssl.CertificateSet.length >= 1);
    assert.ok(ssl.CertificateSet.every((c: any) => c.CertificateType === 2));
    const page = await gaap.DescribeCertificates({ CertificateType: -1, Offset: 1, Limit: 2 });
    assert.equal(page.TotalCount, all.TotalCount);
    assert.deepEqual(page.CertificateSet.map((c: any) => c.CertificateId), all.CertificateSet.slice(1, 3).map((c: any) => c.CertificateId));
    assert.equal(await errorCode(gaap.DescribeCertificates({ CertificateType: 9 })), 'InvalidParameterValue');
  });

  it('renames, deletes, and answers "CertificateId not found" afterwards', async () => {
    const { CertificateId } = await gaap.CreateCertificate({ CertificateType: 1, CertificateContent: other.cert, CertificateAlias: 'old' });
    const m = await gaap.ModifyCertificateAttributes({ CertificateId, CertificateAlias: 'new-name' });
    assertResponseShape('gaap', 'ModifyCertificateAttributes', m);
    const { CertificateDetail } = await gaap.DescribeCertificateDetail({ CertificateId });
    assert.equal(CertificateDetail.CertificateAlias, 'new-name');
    const del = await gaap.DeleteCertificate({ CertificateId });
    assertResponseShape('gaap', 'DeleteCertificate', del);
    await assert.rejects(gaap.DescribeCertificateDetail({ CertificateId }), (e: any) => e.code === 'ResourceNotFound' && e.message === 'CertificateId not found');
    assert.equal(await errorCode(gaap.DeleteCertificate({ CertificateId })), 'ResourceNotFound');
    assert.equal(await errorCode(gaap.ModifyCertificateAttributes({ CertificateId, CertificateAlias: 'x' })), 'ResourceNotFound');
  });

  it('keeps accounts apart', async () => {
    const a = cnClient('gaap', server, { account: ACCOUNT_A });
    const b = cnClient('gaap', server, { account: ACCOUNT_B });
    const { CertificateId } = await a.CreateCertificate({ CertificateType: 1, CertificateContent: other.cert });
    assert.equal((await a.DescribeCertificates({})).TotalCount, 1);
    assert.equal((await b.DescribeCertificates({})).TotalCount, 0);
    assert.equal(await errorCode(b.DescribeCertificateDetail({ CertificateId })), 'ResourceNotFound');
    assert.equal(await errorCode(b.DeleteCertificate({ CertificateId })), 'ResourceNotFound');
    await a.DeleteCertificate({ CertificateId });
  });
});
