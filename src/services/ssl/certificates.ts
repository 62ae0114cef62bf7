/**
 * Certificates: applying for a free DV certificate, uploading one, reading
 * them back, deleting them.
 */
import { ApiError, invalidParameterValue, missingParameter } from '../../core/errors';
import type { ApplyCertificateRequest, DeleteCertificateRequest, DescribeCertificateDetailRequest, DescribeCertificateRequest, DescribeCertificatesRequest, SslActions, UploadCertificateRequest } from '../../spec/ssl.types';
import type { Store } from '../../store/types';
import { randomAlphanumeric } from '../../core/ids';
import { paging } from '../kit/paging';
import type { ActionContext, HandlerPart } from '../types';
import { parseUpload, type ParsedUpload } from './issuer';
import {
  CANCELLABLE, describeView, detailView, expiringSoon, FREE_PACKAGE, getCert, KIND, listView, putCert, say, STATUS,
  type CertData, type DvAuth,
} from './model';
import { startReview } from './review';

/** Certificate IDs are 8 letters and digits (`a9TsmZkL`). */
export function certificateId(): string {
  return randomAlphanumeric(8);
}

const DOMAIN = /^(?=.{1,253}$)(?:(?!-)[a-z0-9-]{1,63}(?<!-)\.)+[a-z][a-z0-9-]{0,62}$/;
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

function blankCert(ctx: ActionContext, id: string): CertData {
  return {
    CertificateId: id,
    OwnerUin: ctx.account.uin,
    ProjectId: 0,
    From: FREE_PACKAGE.from,
    CertificateType: 'SVR',
    PackageType: FREE_PACKAGE.type,
    ProductZhName: FREE_PACKAGE.name,
    Domain: '',
    Alias: '',
    Status: STATUS.REVIEWING,
    StatusMsg: null,
    VerifyType: null,
    ValidityPeriod: '3',
    InsertMs: ctx.now,
    OrderId: null,
    Sans: [],
    IsDv: true,
    Tags: [],
    CertificateUse: '',
    OriginCertificateId: null,
    DvAuth: null,
    CsrEncryptAlgo: 'RSA',
    CsrKeyParameter: '2048',
    CsrKeyPassword: null,
    ReviewRound: 0,
    BeginMs: null,
    EndMs: null,
    ValidationPassedMs: null,
    CertificatePublicKey: null,
    CertificatePrivateKey: null,
    CertFingerprint: null,
    EncryptAlgorithm: 'RSA 2048',
    Chain: [],
    RootCertificate: null,
  };
}

async function applyCertificate(input: ApplyCertificateRequest, ctx: ActionContext) {
  const method = input.DvAuthMethod;
  if (!['DNS_AUTO', 'DNS', 'FILE'].includes(method)) throw invalidParameterValue('DvAuthMethod', 'expected DNS_AUTO, DNS or FILE');
  const domain = input.DomainName.trim().toLowerCase().replace(/\.$/, '');
  if (domain.length > 64) {
    throw new ApiError('InvalidParameterValue.CertificateDomainMaxLengthInvalid',
      say(ctx, `域名 \`${input.DomainName}\` 不能超过64位。`, `The domain name \`${input.DomainName}\` cannot exceed 64 characters.`));
  }
  if (domain.startsWith('*.')) {
    throw new ApiError('FailedOperation.InvalidParam',
      say(ctx, `免费证书不支持通配符域名 \`${input.DomainName}\`。`, `Free certificates do not support the wildcard domain \`${input.DomainName}\`.`));
  }
  if (!DOMAIN.test(domain)) throw invalidParameterValue('DomainName', `\`${input.DomainName}\` is not a domain name`);
  if (input.ContactEmail !== undefined && input.ContactEmail !== '' && !EMAIL.test(input.ContactEmail)) {
    throw new ApiError('InvalidParameterValue.CertificateEmailParseInvalid',
      say(ctx, `邮箱 \`${input.ContactEmail}\` 格式错误。`, `The email address \`${input.ContactEmail}\` is not valid.`));
  }
  if (input.PackageType !== undefined && input.PackageType !== '' && input.PackageType !== FREE_PACKAGE.type) {
    throw invalidParameterValue('PackageType', `only "${FREE_PACKAGE.type}" (${FREE_PACKAGE.name}) is available`);
  }
  if (input.ValidityPeriod !== undefined && input.ValidityPeriod !== '' && input.ValidityPeriod !== '3') {
    throw invalidParameterValue('ValidityPeriod', 'free certificates are valid for "3" months');
  }
  if (input.PackageId) {
    throw new ApiError('FailedOperation.PackageNotFound',
      say(ctx, `权益包 \`${input.PackageId}\` 不存在。`, `The package \`${input.PackageId}\` does not exist.`));
  }
  const algo = (input.CsrEncryptAlgo || 'RSA').toUpperCase();
  if (algo !== 'RSA' && algo !== 'ECC') throw invalidParameterValue('CsrEncryptAlgo', 'expected RSA or ECC');
  let keyParameter = input.CsrKeyParameter ?? '';
  if (algo === 'RSA') {
    keyParameter ||= '2048';
    if (keyParameter !== '2048') throw invalidParameterValue('CsrKeyParameter', 'RSA keys are "2048" bits');
  } else {
    if (!keyParameter) throw invalidParameterValue('CsrKeyParameter', 'it is required with CsrEncryptAlgo ECC ("prime256v1")');
    if (keyParameter !== 'prime256v1') throw invalidParameterValue('CsrKeyParameter', 'ECC keys use the curve "prime256v1"');
  }
  const projectId = input.ProjectId ?? 0;
  if (projectId < 0) throw invalidParameterValue('ProjectId', 'it must not be negative');
  const main = domain.split('.').length === 2 || domain.startsWith('www.') ? domain.replace(/^www\./, '') : null;
  const sans = main === null ? [domain] : domain === main ? [domain, `www.${main}`] : [domain, main];
  const cert: CertData = {
    ...blankCert(ctx, certificateId()),
    ProjectId: projectId,
    Domain: domain,
    Alias: input.Alias ?? '',
    Sans: sans,
    OrderId: null,
    OriginCertificateId: input.OldCertificateId || null,
    CsrEncryptAlgo: algo,
    CsrKeyParameter: keyParameter,
    CsrKeyPassword: input.CsrKeyPassword || null,
    EncryptAlgorithm: algo === 'RSA' ? 'RSA 2048' : 'ECC 256',
  };
  await startReview(ctx, cert, method as DvAuth['method']);
  return { CertificateId: cert.CertificateId };
}

function uploadProblem(p: Exclude<ReturnType<typeof parseUpload>, ParsedUpload>, ctx: ActionContext): ApiError {
  switch (p.code) {
    case 'parse':
      return new ApiError('FailedOperation.CertificateParseError',
        say(ctx, `证书 \`CertificatePublicKey\` 解析失败：${p.detail}。`, `The certificate \`CertificatePublicKey\` could not be parsed: ${p.detail}.`));
    case 'key':
      return new ApiError('FailedOperation.CertificateParseError',
        say(ctx, `私钥 \`CertificatePrivateKey\` 解析失败（密码错误或格式不正确）：${p.detail}。`,
          `The private key \`CertificatePrivateKey\` could not be parsed (wrong KeyPassword or bad format): ${p.detail}.`));
    case 'mismatch':
      return new ApiError('FailedOperation.CertificateMismatch',
        say(ctx, '证书 `CertificatePublicKey` 与私钥 `CertificatePrivateKey` 不对应。', 'The certificate `CertificatePublicKey` and the private key `CertificatePrivateKey` do not match.'));
    case 'chain':
      return new ApiError('FailedOperation.CertificateChainError',
        say(ctx, `证书链 \`CertificatePublicKey\` 不正确：${p.detail}。`, `The certificate chain \`CertificatePublicKey\` is not valid: ${p.detail}.`));
    case 'ca':
      return new ApiError('FailedOperation.CertificateCaError',
        say(ctx, '`CertificatePublicKey` 不是 CA 证书。', 'The certificate `CertificatePublicKey` is not a CA certificate.'));
  }
}

async function uploadCertificate(input: UploadCertificateRequest, ctx: ActionContext) {
  const type = (input.CertificateType || 'SVR').toUpperCase();
  if (type !== 'SVR' && type !== 'CA') throw invalidParameterValue('CertificateType', 'expected SVR or CA');
  if (type === 'SVR' && !input.CertificatePrivateKey?.trim()) throw missingParameter('CertificatePrivateKey');
  const parsed = parseUpload(input.CertificatePublicKey, input.CertificatePrivateKey, input.KeyPassword, type);
  if ('code' in parsed) throw uploadProblem(parsed, ctx);
  if (input.Repeatable === false) {
    const same = await ctx.tx.list<CertData>(KIND, { where: [{ field: 'CertFingerprint', values: [parsed.fingerprint] }], limit: 1 });
    const existing = same.items[0]?.data;
    if (existing && existing.From === 'upload' && existing.CertificateType === type) {
      return { CertificateId: existing.CertificateId, RepeatCertId: existing.CertificateId };
    }
  }
  const months = Math.max(0, Math.round((parsed.endMs - parsed.beginMs) / (30.44 * 86_400_000)));
  const cert: CertData = {
    ...blankCert(ctx, certificateId()),
    ProjectId: input.ProjectId ?? 0,
    From: 'upload',
    CertificateType: type,
    PackageType: null,
    ProductZhName: parsed.issuerName,
    Domain: parsed.domain,
    Alias: input.Alias ?? '',
    Status: parsed.endMs < ctx.now ? STATUS.EXPIRED : STATUS.ISSUED,
    ValidityPeriod: String(months),
    Sans: parsed.sans,
    IsDv: false,
    Tags: (input.Tags ?? []).map((t) => ({ TagKey: t.TagKey, TagValue: t.TagValue })),
    CertificateUse: input.CertificateUse ?? '',
    CsrKeyPassword: input.KeyPassword || null,
    BeginMs: parsed.beginMs,
    EndMs: parsed.endMs,
    CertificatePublicKey: parsed.publicKeyPem,
    CertificatePrivateKey: parsed.privateKeyPem,
    CertFingerprint: parsed.fingerprint,
    EncryptAlgorithm: parsed.encryptAlgorithm,
    Chain: parsed.chain,
  };
  await putCert(ctx.tx, cert);
  return { CertificateId: cert.CertificateId, RepeatCertId: '' };
}

async function describeCertificates(input: DescribeCertificatesRequest, ctx: ActionContext) {
  const { offset, limit } = paging(input, { defaultLimit: 10, maxLimit: 1000, overMax: 'clamp', zeroIsDefault: true });
  if (input.ExpirationSort !== undefined && input.ExpirationSort !== '' && !['ASC', 'DESC'].includes(input.ExpirationSort)) {
    throw invalidParameterValue('ExpirationSort', 'expected ASC or DESC');
  }
  if (input.FilterSource !== undefined && input.FilterSource !== '' && !['upload', 'buy'].includes(input.FilterSource)) {
    throw invalidParameterValue('FilterSource', 'expected upload or buy');
  }
  const statuses = input.CertificateStatus?.length ? input.CertificateStatus.map(String) : undefined;
  const { items } = await ctx.tx.list<CertData>(KIND, {
    statusIn: statuses,
    ids: input.CertIds?.length ? input.CertIds : undefined,
    descending: true,
  });
  const key = input.SearchKey?.trim().toLowerCase();
  const type = input.CertificateType?.toUpperCase();
  const now = ctx.now;
  let certs = items.map((r) => r.data).filter((c) => {
    if (key && ![c.CertificateId, c.Alias, c.Domain, ...c.Sans].some((s) => s.toLowerCase().includes(key))) return false;
    if (type && c.CertificateType !== type) return false;
    if (input.ProjectId !== undefined && c.ProjectId !== input.ProjectId) return false;
    const canDeploy = c.Status === STATUS.ISSUED && c.CertificateType === 'SVR';
    if (input.Deployable === 1 && !canDeploy) return false;
    if (input.Deployable === 0 && canDeploy) return false;
    if (input.Hostable === 1 && !canDeploy) return false;
    if (input.Upload === 1 && c.From !== 'upload') return false;
    if (input.FilterSource === 'upload' && c.From !== 'upload') return false;
    if (input.FilterSource === 'buy' && c.From === 'upload') return false;
    if (input.IsSM === 1) return false;
    if ((input.FilterExpiring === 1 || input.Renew === 1) && !expiringSoon(c, now)) return false;
    if (input.Renew === 1 && c.From === 'upload') return false;
    if (input.IsPendingIssue === 1 && !CANCELLABLE.has(c.Status)) return false;
    if (input.ServiceId) return false;
    if (input.Tags?.length && !input.Tags.every((t) => c.Tags.some((x) => x.TagKey === t.TagKey && (t.TagValue === undefined || t.TagValue === '' || x.TagValue === t.TagValue)))) return false;
    return true;
  });
  if (input.ExpirationSort === 'ASC' || input.ExpirationSort === 'DESC') {
    const dir = input.ExpirationSort === 'ASC' ? 1 : -1;
    certs = certs.sort((a, b) => ((a.EndMs ?? Infinity) - (b.EndMs ?? Infinity)) * dir || b.InsertMs - a.InsertMs);
  }
  return {
    TotalCount: certs.length,
    Certificates: certs.slice(offset, offset + limit).map((c) => listView(c, ctx.language, now)),
  };
}

async function deleteCertificate(input: DeleteCertificateRequest, ctx: ActionContext) {
  const c = await getCert(ctx, input.CertificateId);
  if (c.Status === STATUS.CANCELLING) {
    throw new ApiError('FailedOperation.InvalidCertificateStatusCode',
      say(ctx, `证书 \`${c.CertificateId}\` 正在取消中，不能删除。`, `The certificate \`${c.CertificateId}\` is being canceled and cannot be deleted.`));
  }
  await ctx.tx.delete(KIND, c.CertificateId);
  return { DeleteResult: true, TaskId: null };
}

export const handlers = {
  ApplyCertificate: applyCertificate,
  UploadCertificate: uploadCertificate,
  DescribeCertificate: async (input: DescribeCertificateRequest, ctx) => describeView(await getCert(ctx, input.CertificateId), ctx.language, ctx.now),
  DescribeCertificateDetail: async (input: DescribeCertificateDetailRequest, ctx) =>
    detailView(await getCert(ctx, input.CertificateId), ctx.language, ctx.now),
  DescribeCertificates: describeCertificates,
  DeleteCertificate: deleteCertificate,
} satisfies HandlerPart<SslActions>;

export function prepare(store: Store): void {
  store.ensureFieldIndex(KIND, 'CertFingerprint');
}
