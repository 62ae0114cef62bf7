/**
 * The review of a free certificate: it starts on ApplyCertificate (or
 * ModifyCertificateResubmit), ends on its own with an issued certificate
 * after the review time, or is cancelled by CancelAuditCertificate.
 */
import { randomBytes } from 'node:crypto';
import { ApiError } from '../../core/errors';
import type { CancelAuditCertificateRequest, ModifyCertificateResubmitRequest, SslActions } from '../../spec/ssl.types';
import type { StoreTx } from '../../store/types';
import type { ActionContext, HandlerPart, TransitionHandler } from '../types';
import { dropIssue, prepareIssue, takeIssue, type IssueRequest } from './issuer';
import { CANCELLABLE, getCert, KIND, putCert, RESUBMITTABLE, say, STATUS, type CertData, type DvAuth } from './model';

const SECOND_LEVEL = new Set(['com.cn', 'net.cn', 'org.cn', 'gov.cn', 'edu.cn', 'ac.cn', 'com.hk', 'com.tw', 'co.uk', 'org.uk', 'co.jp', 'com.au', 'com.sg', 'co.kr']);

/** The registrable domain of a name (`www.example.com.cn` → `example.com.cn`). */
export function mainDomain(name: string): string {
  const labels = name.split('.');
  const n = SECOND_LEVEL.has(labels.slice(-2).join('.')) ? 3 : 2;
  return labels.slice(-n).join('.');
}

const TOKEN_ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789';

function validationToken(now: number): string {
  const bytes = randomBytes(40);
  let s = new Date(now + 8 * 3600_000).toISOString().slice(0, 10).replace(/-/g, '') + '000000';
  for (const b of bytes) s += TOKEN_ALPHABET[b % TOKEN_ALPHABET.length];
  return s;
}

/** What domain validation asks for, by method (see docs/ssl.md). */
export function dvAuthFor(method: DvAuth['method'], domain: string, now: number): DvAuth {
  const main = mainDomain(domain);
  const value = validationToken(now);
  if (method === 'FILE') {
    return { method, key: 'fileauth.txt', value, domain, path: '/.well-known/pki-validation/', subDomain: '' };
  }
  const sub = domain === main ? '' : domain.slice(0, -(main.length + 1));
  const key = sub ? `_dnsauth.${sub}` : '_dnsauth';
  return { method, key, value, domain: main, path: null, subDomain: key };
}

const issueKey = (account: string, c: Pick<CertData, 'CertificateId' | 'ReviewRound'>) => `${account}:${c.CertificateId}:${c.ReviewRound}`;

const issueRequest = (c: CertData): IssueRequest => ({
  domain: c.Domain,
  sans: c.Sans,
  algo: c.CsrEncryptAlgo,
  keyParameter: c.CsrKeyParameter,
  keyPassword: c.CsrKeyPassword,
  days: 90,
});

/** Puts `c` under review (Status 0, or 4 for DNS_AUTO) and schedules its issue. */
export async function startReview(ctx: ActionContext, c: CertData, method: DvAuth['method']): Promise<CertData> {
  const next: CertData = {
    ...c,
    Status: method === 'DNS_AUTO' ? STATUS.DNS_ADDED : STATUS.REVIEWING,
    StatusMsg: 'PENDING-DCV',
    VerifyType: method,
    DvAuth: dvAuthFor(method, c.Domain, ctx.now),
    ReviewRound: c.ReviewRound + 1,
  };
  await putCert(ctx.tx, next);
  // The key and certificate are made now, off the store's transaction.
  prepareIssue(issueKey(ctx.tx.account, next), issueRequest(next));
  await ctx.later('issue', { CertificateId: next.CertificateId, ReviewRound: next.ReviewRound }, ctx.settings.sslReviewMs);
  return next;
}

/** The review passed: the certificate is issued, signed by the emulator CA. */
const issueTransition: TransitionHandler = async (p: { CertificateId: string; ReviewRound: number }, tx: StoreTx, now: number) => {
  const rec = await tx.get<CertData>(KIND, p.CertificateId);
  const key = issueKey(tx.account, { CertificateId: p.CertificateId, ReviewRound: p.ReviewRound });
  if (!rec || rec.data.ReviewRound !== p.ReviewRound || !CANCELLABLE.has(rec.data.Status)) {
    dropIssue(key);
    return;
  }
  const c = rec.data;
  const m = await takeIssue(key, issueRequest(c));
  await putCert(tx, {
    ...c,
    Status: STATUS.ISSUED,
    StatusMsg: null,
    DvAuth: null,
    BeginMs: m.beginMs,
    EndMs: m.endMs,
    ValidationPassedMs: now,
    CertificatePublicKey: m.publicKeyBundle,
    CertificatePrivateKey: m.privateKeyPem,
    CertFingerprint: m.fingerprint,
    EncryptAlgorithm: m.encryptAlgorithm,
    Chain: m.chain,
    RootCertificate: m.caPem,
  });
};

export const handlers = {
  CancelAuditCertificate: async (input: CancelAuditCertificateRequest, ctx) => {
    const id = input.CertificateId;
    const rec = id ? await ctx.tx.get<CertData>(KIND, id) : undefined;
    if (!rec || !CANCELLABLE.has(rec.data.Status)) {
      throw new ApiError(
        'FailedOperation.CertificateNotFoundOrCantCancel',
        rec
          ? say(ctx, `证书 \`${id}\` 当前状态（${rec.data.Status}）不可取消审核。`, `The review of certificate \`${id}\` cannot be canceled in its current status (${rec.data.Status}).`)
          : say(ctx, `证书 \`${id}\` 不存在。`, `The certificate \`${id}\` does not exist.`),
      );
    }
    dropIssue(issueKey(ctx.tx.account, rec.data));
    await putCert(ctx.tx, { ...rec.data, Status: STATUS.CANCELLED, StatusMsg: null, DvAuth: null });
    return { Result: true };
  },

  ModifyCertificateResubmit: async (input: ModifyCertificateResubmitRequest, ctx) => {
    const c = await getCert(ctx, input.CertificateId);
    if (!RESUBMITTABLE.has(c.Status) || c.From === 'upload') {
      throw new ApiError(
        'FailedOperation.CertificateStatusNotAllowResubmit',
        say(ctx, `证书 \`${c.CertificateId}\` 当前状态（${c.Status}）不允许重新提交审核。`,
          `The certificate \`${c.CertificateId}\` cannot be resubmitted in its current status (${c.Status}).`),
      );
    }
    const method = (['DNS_AUTO', 'DNS', 'FILE'].includes(c.VerifyType ?? '') ? c.VerifyType : 'DNS') as DvAuth['method'];
    await startReview(ctx, c, method);
    return { CertificateId: c.CertificateId };
  },
} satisfies HandlerPart<SslActions>;

export const transitions: Record<string, TransitionHandler> = { issue: issueTransition };
