/**
 * SSL certificate records and the three ways the API shows them
 * (DescribeCertificate, DescribeCertificateDetail, DescribeCertificates).
 * A record keeps the facts once; the views add the language-dependent names
 * and the fields that only exist for the sake of the models.
 */
import { ApiError } from '../../core/errors';
import { lifecycle } from '../kit/lifecycle';
import type { CertBasicInfo, CertificateExtra, Certificates, DescribeCertificateDetailResponse, DescribeCertificateResponse, DvAuthDetail, Tags } from '../../spec/ssl.types';
import type { ActionContext, Language } from '../types';

export const KIND = 'ssl.certificate';

/** The certificate statuses of the API (ssl_models `Status`). */
export const STATUS = {
  REVIEWING: 0,
  ISSUED: 1,
  REVIEW_FAILED: 2,
  EXPIRED: 3,
  DNS_ADDED: 4,
  ENTERPRISE_PENDING: 5,
  CANCELLING: 6,
  CANCELLED: 7,
  DATA_SUBMITTED: 8,
} as const;

/**
 * A certificate's statuses; it is busy while its review is under way (the
 * statuses a review can still be cancelled from), and the `issue`
 * transition settles it.
 */
export const certLife = lifecycle<number, CertData, 'issue'>({
  noun: 'certificate',
  statuses: Object.values(STATUS),
  busy: [STATUS.REVIEWING, STATUS.DNS_ADDED, STATUS.DATA_SUBMITTED],
  read: (rec) => rec.data.Status,
  write: (data, status) => ({ ...data, Status: status }),
});

/** Statuses a review can still be cancelled from. */
export const CANCELLABLE: ReadonlySet<number> = certLife.busy;
/** Statuses ModifyCertificateResubmit accepts. */
export const RESUBMITTABLE: ReadonlySet<number> = new Set([STATUS.REVIEW_FAILED, STATUS.CANCELLED]);

const STATUS_NAMES: Record<number, [string, string]> = {
  0: ['审核中', 'Under review'],
  1: ['已颁发', 'Issued'],
  2: ['审核失败', 'Review failed'],
  3: ['已过期', 'Expired'],
  4: ['自动添加DNS记录', 'DNS records added automatically'],
  5: ['企业证书，待提交资料', 'Enterprise certificate, pending documentation submission'],
  6: ['订单取消中', 'Order cancellation in progress'],
  7: ['已取消', 'Canceled'],
  8: ['已提交资料，待上传确认函', 'Documents submitted, pending upload of confirmation letter'],
  9: ['证书吊销中', 'Certificate revocation in progress'],
  10: ['已吊销', 'Revoked'],
  11: ['重颁发中', 'Reissue in progress'],
  12: ['待上传吊销确认函', 'Pending upload of revocation confirmation letter'],
  13: ['免费证书待提交资料', 'Free certificate pending document submission'],
  14: ['证书已退款', 'Certificate has been refunded'],
  15: ['证书迁移中', 'Certificate migration in progress'],
};

export function statusName(status: number, language: Language): string {
  const names = STATUS_NAMES[status];
  if (!names) return String(status);
  return language === 'en-US' ? names[1] : names[0];
}

/** A message in the caller's language. */
export const say = (ctx: Pick<ActionContext, 'language'>, zh: string, en: string): string => (ctx.language === 'en-US' ? en : zh);

export const FREE_PACKAGE = { type: '83', name: 'TrustAsia C1 DV Free', from: 'trustasia' };

/** `YYYY-MM-DD HH:mm:ss` in GMT+8, as every SSL time field reads. */
export function sslTime(ms: number): string {
  return new Date(ms + 8 * 3600_000).toISOString().slice(0, 19).replace('T', ' ');
}

/** What domain validation asks the owner to publish while a review runs. */
export interface DvAuth {
  method: 'DNS_AUTO' | 'DNS' | 'FILE';
  key: string;
  value: string;
  domain: string;
  path: string | null;
  subDomain: string;
}

/** One certificate in the store (not the API's Certificates: the views derive its names, strings and times per language). Top-level names that filters use are kept flat. */
export interface CertData {
  CertificateId: string;
  OwnerUin: string;
  ProjectId: number;
  From: string;
  CertificateType: 'SVR' | 'CA';
  PackageType: string | null;
  ProductZhName: string;
  Domain: string;
  Alias: string;
  Status: number;
  StatusMsg: string | null;
  VerifyType: string | null;
  ValidityPeriod: string;
  InsertMs: number;
  OrderId: string | null;
  /** Every name the certificate covers, the main domain first. */
  Sans: string[];
  IsDv: boolean;
  Tags: Tags[];
  CertificateUse: string;
  OriginCertificateId: string | null;
  /** Set while a review runs (Status 0, 4 or 8). */
  DvAuth: DvAuth | null;
  /** Applied certificates: the key the CSR is made with. */
  CsrEncryptAlgo: 'RSA' | 'ECC';
  CsrKeyParameter: string;
  CsrKeyPassword: string | null;
  /** Increments each time a review starts, so a stale scheduled issue is ignored. */
  ReviewRound: number;
  /** Issued material. */
  BeginMs: number | null;
  EndMs: number | null;
  ValidationPassedMs: number | null;
  CertificatePublicKey: string | null;
  CertificatePrivateKey: string | null;
  CertFingerprint: string | null;
  EncryptAlgorithm: string;
  Chain: CertBasicInfo[];
  RootCertificate: string | null;
}

export async function getCert(ctx: ActionContext, id: string, code = 'FailedOperation.CertificateNotFound'): Promise<CertData> {
  const rec = id ? await ctx.tx.get<CertData>(KIND, id) : undefined;
  if (!rec) throw new ApiError(code, say(ctx, `证书 \`${id}\` 不存在。`, `The certificate \`${id}\` does not exist.`));
  return rec.data;
}

export async function putCert(tx: ActionContext['tx'], c: CertData): Promise<void> {
  await tx.put({ kind: KIND, id: c.CertificateId, parent: null, status: String(c.Status), createdAt: c.InsertMs, data: c });
}

const DAY = 86_400_000;

const isWildcard = (c: CertData) => c.Sans.some((s) => s.startsWith('*.'));

function domainType(c: CertData): number {
  const wild = isWildcard(c);
  // `example.com` with `www.example.com` counts as one name.
  const bare = (s: string) => s.replace(/^www\./, '');
  const multi = c.Sans.some((s) => bare(s) !== bare(c.Domain));
  if (wild) return multi ? 4 : 3;
  return multi ? 2 : 1;
}

const issued = (c: CertData) => c.Status === STATUS.ISSUED;
const deployable = (c: CertData) => issued(c) && c.CertificateType === 'SVR';
export const expiringSoon = (c: CertData, now: number) => issued(c) && c.EndMs !== null && c.EndMs - now < 30 * DAY;
const renewAble = (c: CertData, now: number) => c.From !== 'upload' && expiringSoon(c, now);

function dvAuthDetail(c: CertData): DvAuthDetail {
  const a = c.DvAuth;
  if (!a) return { DvAuthKey: null, DvAuthValue: null, DvAuthDomain: null, DvAuthPath: null, DvAuthKeySubDomain: '', DvAuths: null };
  return {
    DvAuthKey: a.key,
    DvAuthValue: a.value,
    DvAuthDomain: a.domain,
    DvAuthPath: a.path,
    DvAuthKeySubDomain: a.subDomain,
    DvAuths: [
      {
        DvAuthKey: a.key,
        DvAuthValue: a.value,
        DvAuthDomain: a.domain,
        DvAuthPath: a.path ?? '',
        DvAuthSubDomain: a.subDomain,
        DvAuthVerifyType: a.method === 'FILE' ? 'FILE' : 'TXT',
      },
    ],
  };
}

function extra(c: CertData): CertificateExtra {
  return {
    DomainNumber: String(c.Sans.length),
    OriginCertificateId: c.OriginCertificateId,
    ReplacedBy: null,
    ReplacedFor: null,
    RenewOrder: null,
    SMCert: 0,
    CompanyType: 0,
    ServiceRenewCertificateId: '',
    ServiceOriginCertificateId: '',
  };
}

function common(c: CertData, language: Language, now: number) {
  return {
    OwnerUin: c.OwnerUin,
    ProjectId: String(c.ProjectId),
    From: c.From,
    CertificateType: c.CertificateType,
    PackageType: c.PackageType,
    ProductZhName: c.ProductZhName,
    Domain: c.Domain,
    Alias: c.Alias,
    Status: c.Status,
    StatusMsg: c.StatusMsg,
    VerifyType: c.VerifyType,
    VulnerabilityStatus: 'INACTIVE',
    CertBeginTime: c.BeginMs === null ? null : sslTime(c.BeginMs),
    CertEndTime: c.EndMs === null ? null : sslTime(c.EndMs),
    ValidityPeriod: c.ValidityPeriod,
    InsertTime: sslTime(c.InsertMs),
    OrderId: c.OrderId,
    CertificateExtra: extra(c),
    VulnerabilityReport: null,
    CertificateId: c.CertificateId,
    StatusName: statusName(c.Status, language),
    IsVip: false,
    IsWildcard: isWildcard(c),
    IsDv: c.IsDv,
    IsVulnerability: false,
    RenewAble: renewAble(c, now),
    SubmittedData: null,
    Deployable: deployable(c),
    Tags: c.Tags,
    DvRevokeAuthDetail: null,
  };
}

/** DescribeCertificate: SubjectAltName includes the main domain; no key material. */
export function describeView(c: CertData, language: Language, now: number): DescribeCertificateResponse {
  return {
    ...common(c, language, now),
    DvAuthDetail: dvAuthDetail(c),
    PackageTypeName: c.PackageType ? FREE_PACKAGE.name : null,
    SubjectAltName: c.Sans,
    CAEncryptAlgorithms: [],
    CACommonNames: [],
    CAEndTimes: [],
  };
}

/** DescribeCertificateDetail: SubjectAltName without the main domain, plus the key material once issued. */
export function detailView(c: CertData, language: Language, now: number): DescribeCertificateDetailResponse {
  return {
    ...common(c, language, now),
    CertificatePrivateKey: c.CertificatePrivateKey,
    CertificatePublicKey: c.CertificatePublicKey,
    DvAuthDetail: dvAuthDetail(c),
    TypeName: c.PackageType ? FREE_PACKAGE.name : null,
    SubjectAltName: c.Sans.filter((s) => s !== c.Domain),
    RootCert: { Sign: null, Encrypt: null, Standard: c.RootCertificate },
    EncryptCert: null,
    EncryptPrivateKey: null,
    CertFingerprint: c.CertFingerprint,
    EncryptCertFingerprint: null,
    EncryptAlgorithm: c.EncryptAlgorithm,
    CertChainInfo: c.Chain.length ? c.Chain : null,
    DomainType: domainType(c),
    CertType: 'DV',
    UseCrossSignRoot: false,
    HostingStatus: -1,
  };
}

/** One item of DescribeCertificates. */
export function listView(c: CertData, language: Language, now: number): Certificates {
  const base = common(c, language, now);
  const uin = Number(c.OwnerUin);
  const can = issued(c);
  return {
    OwnerUin: base.OwnerUin,
    ProjectId: base.ProjectId,
    From: base.From,
    PackageType: c.PackageType ?? '',
    CertificateType: base.CertificateType,
    ProductZhName: base.ProductZhName,
    Domain: base.Domain,
    Alias: base.Alias,
    Status: base.Status,
    CertificateExtra: base.CertificateExtra,
    VulnerabilityStatus: base.VulnerabilityStatus,
    StatusMsg: c.StatusMsg ?? '',
    VerifyType: c.VerifyType ?? '',
    CertBeginTime: base.CertBeginTime ?? '',
    CertEndTime: base.CertEndTime ?? '',
    ValidityPeriod: base.ValidityPeriod,
    InsertTime: base.InsertTime,
    CertificateId: base.CertificateId,
    SubjectAltName: c.Sans,
    PackageTypeName: c.PackageType ? FREE_PACKAGE.name : '',
    StatusName: base.StatusName,
    IsVip: false,
    IsDv: c.IsDv,
    IsWildcard: base.IsWildcard,
    IsVulnerability: false,
    RenewAble: base.RenewAble,
    ProjectInfo: {
      ProjectName: c.ProjectId === 0 ? (language === 'en-US' ? 'Default Project' : '默认项目') : `project-${c.ProjectId}`,
      ProjectCreatorUin: uin,
      ProjectCreateTime: sslTime(0),
      ProjectResume: '',
      OwnerUin: uin,
      ProjectId: String(c.ProjectId),
    },
    BoundResource: [],
    Deployable: base.Deployable,
    Tags: c.Tags,
    IsIgnore: false,
    IsSM: false,
    EncryptAlgorithm: c.EncryptAlgorithm,
    CAEncryptAlgorithms: [],
    CAEndTimes: [],
    CACommonNames: [],
    PreAuditInfo: { TotalPeriod: 1, NowPeriod: 1, ManagerId: '' },
    AutoRenewFlag: 0,
    HostingStatus: -1,
    HostingCompleteTime: '',
    HostingRenewCertId: '',
    HasRenewOrder: '',
    ReplaceOriCertIsDelete: false,
    IsExpiring: expiringSoon(c, now),
    DVAuthDeadline: c.DvAuth ? sslTime(c.InsertMs + 3 * DAY) : '',
    ValidationPassedTime: c.ValidationPassedMs === null ? '--' : sslTime(c.ValidationPassedMs),
    CertSANs: c.Sans,
    AwaitingValidationMsg: '',
    AllowDownload: can,
    IsDNSPODResolve: false,
    IsPackage: false,
    KeyPasswordCustomFlag: c.CsrKeyPassword !== null,
    SupportDownloadType: { NGINX: can, APACHE: can, TOMCAT: can, IIS: can, JKS: can, OTHER: can, ROOT: can },
    CertRevokedTime: '',
    HostingResourceTypes: [],
    HostingConfig: null,
    IsHostingUploadRenewCert: false,
    ServiceId: '',
    ServiceStatus: '',
    CertServiceBeginTime: '',
    CertServiceEndTime: '',
    CertServiceShareEnabled: false,
    CertServiceValidCertificateCount: 0,
  };
}
