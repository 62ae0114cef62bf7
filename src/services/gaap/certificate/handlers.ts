import { ApiError, invalidParameterValue } from '../../../core/errors';
import { resourceId } from '../../../core/ids';
import type { CreateCertificateRequest, DeleteCertificateRequest, DescribeCertificateDetailRequest, DescribeCertificatesRequest, GaapActions, ModifyCertificateAttributesRequest } from '../../../spec/gaap.types';
import type { HandlerPart, TransitionHandler } from '../../types';
import { decodeMaterial, isBasicAuthContent, keyMatches, parseCertificatePem, parsePrivateKeyPem } from './pem';
import { certificateUsers, type CertificateData } from './model';
import { paging } from '../../kit/paging';
import { KIND, unixSeconds } from '../kinds';

/** 0 basic-auth file, 1 client CA, 2 server SSL, 3 real-server CA, 4 GAAP (proxy) SSL. */
const SSL_TYPES = new Set([2, 4]);
const ALIAS_MAX = 50;

const certificateNotFound = (id: string) => new ApiError('ResourceNotFound', `The certificate \`${id}\` does not exist.`);

function checkAlias(alias: string | undefined): void {
  if (alias !== undefined && [...alias].length > ALIAS_MAX) {
    throw invalidParameterValue('CertificateAlias', `at most ${ALIAS_MAX} characters`);
  }
}

/**
 * List view (`Certificate`). Its model allows no null, so a file without a
 * validity (basic auth) lists 0 here; the detail keeps null, which
 * Terraform's read expects.
 */
const listView = (d: CertificateData) => ({
  CertificateId: d.CertificateId,
  CertificateName: d.CertificateAlias,
  CertificateType: d.CertificateType,
  CertificateAlias: d.CertificateAlias,
  CreateTime: d.CreateTime,
  BeginTime: d.BeginTime ?? 0,
  EndTime: d.EndTime ?? 0,
  IssuerCN: d.IssuerCN,
  SubjectCN: d.SubjectCN,
});

/** Detail view (`CertificateDetail`): the key only for SSL types. */
const detailView = (d: CertificateData) => ({
  CertificateId: d.CertificateId,
  CertificateType: d.CertificateType,
  CertificateAlias: d.CertificateAlias,
  CertificateContent: d.CertificateContent,
  CertificateKey: d.CertificateKey,
  CreateTime: d.CreateTime,
  BeginTime: d.BeginTime,
  EndTime: d.EndTime,
  IssuerCN: d.IssuerCN,
  SubjectCN: d.SubjectCN,
});

export const handlers = {
  CreateCertificate: async (input: CreateCertificateRequest, ctx) => {
    const type = input.CertificateType;
    if (!Number.isInteger(type) || type < 0 || type > 4) throw invalidParameterValue('CertificateType', 'one of 0, 1, 2, 3, 4');
    checkAlias(input.CertificateAlias);
    const content = decodeMaterial(input.CertificateContent).trim();
    const id = resourceId('cert');
    const data: CertificateData = {
      CertificateId: id,
      CertificateType: type,
      CertificateAlias: input.CertificateAlias ?? '',
      CertificateContent: content,
      CertificateKey: '',
      CreateTime: unixSeconds(ctx.now),
      BeginTime: null,
      EndTime: null,
      IssuerCN: '',
      SubjectCN: '',
      DnsNames: [],
    };
    if (type === 0) {
      if (!isBasicAuthContent(content)) {
        throw new ApiError('InvalidParameterValue.InvalidCertificateContent', 'The value of parameter `CertificateContent` is not valid: expected `user:crypted-password` lines.');
      }
    } else {
      const cert = parseCertificatePem(content);
      if (!cert) {
        throw new ApiError('InvalidParameterValue.InvalidCertificateContent', 'The value of parameter `CertificateContent` is not a readable PEM certificate.');
      }
      if (SSL_TYPES.has(type)) {
        if (input.CertificateKey === undefined || input.CertificateKey.trim() === '') {
          throw new ApiError('InvalidParameterValue.InvalidCertificateKey', 'The parameter `CertificateKey` is required for SSL certificates (types 2 and 4).');
        }
        const keyPem = decodeMaterial(input.CertificateKey).trim();
        const key = parsePrivateKeyPem(keyPem);
        if (!key) throw new ApiError('InvalidParameterValue.InvalidCertificateKey', 'The value of parameter `CertificateKey` is not a readable PEM private key.');
        if (!keyMatches(cert.leaf, key)) {
          throw new ApiError('InvalidParameterValue.CertificateContentNotMatchKey', 'The private key in `CertificateKey` does not match the certificate in `CertificateContent`.');
        }
        data.CertificateKey = keyPem;
      }
      data.BeginTime = cert.beginTime;
      data.EndTime = cert.endTime;
      data.IssuerCN = cert.issuerCN;
      data.SubjectCN = cert.subjectCN;
      data.DnsNames = cert.dnsNames;
    }
    await ctx.tx.put({ kind: KIND.certificate, id, parent: null, status: null, createdAt: ctx.now, data });
    return { CertificateId: id };
  },

  DescribeCertificates: async (input: DescribeCertificatesRequest, ctx) => {
    const type = input.CertificateType ?? -1;
    if (!Number.isInteger(type) || type < -1 || type > 4) throw invalidParameterValue('CertificateType', 'one of -1, 0, 1, 2, 3, 4');
    const { offset, limit } = paging(input, { maxLimit: 1000 });
    const page = await ctx.tx.list<CertificateData>(KIND.certificate, {
      where: type === -1 ? [] : [{ field: 'CertificateType', values: [type] }],
      offset,
      limit,
    });
    return { CertificateSet: page.items.map((r) => listView(r.data)), TotalCount: page.total };
  },

  DescribeCertificateDetail: async (input: DescribeCertificateDetailRequest, ctx) => {
    const rec = await ctx.tx.get<CertificateData>(KIND.certificate, input.CertificateId);
    // Terraform recognises a deleted certificate by this exact message.
    if (!rec) throw new ApiError('ResourceNotFound', 'CertificateId not found');
    return { CertificateDetail: detailView(rec.data) };
  },

  ModifyCertificateAttributes: async (input: ModifyCertificateAttributesRequest, ctx) => {
    const rec = await ctx.tx.get<CertificateData>(KIND.certificate, input.CertificateId);
    if (!rec) throw certificateNotFound(input.CertificateId);
    checkAlias(input.CertificateAlias);
    if (input.CertificateAlias !== undefined) {
      await ctx.tx.put({ ...rec, data: { ...rec.data, CertificateAlias: input.CertificateAlias } });
    }
    return {};
  },

  DeleteCertificate: async (input: DeleteCertificateRequest, ctx) => {
    const rec = await ctx.tx.get<CertificateData>(KIND.certificate, input.CertificateId);
    if (!rec) throw certificateNotFound(input.CertificateId);
    const users = await certificateUsers(ctx.tx, input.CertificateId);
    if (users.length > 0) {
      throw new ApiError('FailedOperation.CertificateIsUsing', `The certificate \`${input.CertificateId}\` is in use by ${users.slice(0, 3).join(', ')}.`);
    }
    await ctx.tx.delete(KIND.certificate, input.CertificateId);
    return {};
  },
} satisfies HandlerPart<GaapActions>;

export const transitions: Record<string, TransitionHandler> = {};
