import type { CertificateDetail } from '../../../spec/gaap.types';
import type { StoreTx } from '../../../store/types';
import { KIND } from '../kinds';

/** A stored certificate: the CertificateDetail shape, with no validity (null) for basic-auth files, plus the names it covers. */
export interface CertificateData extends Omit<CertificateDetail, 'BeginTime' | 'EndTime'> {
  BeginTime: number | null;
  EndTime: number | null;
  /** Lower-case DNS names of the leaf certificate (SANs, else the CN). */
  DnsNames: string[];
}

const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);

function idsIn(list: unknown): string[] {
  if (!Array.isArray(list)) return [];
  return list.map((x) => (typeof x === 'string' ? x : str((x as { CertificateId?: unknown } | null)?.CertificateId))).filter((x): x is string => !!x);
}

/** Every certificate id a listener or domain record refers to. */
export function referencedCertificateIds(data: Record<string, unknown>): string[] {
  const out = [
    str(data.CertificateId),
    str(data.ClientCertificateId),
    str(data.BasicAuthConfId),
    str(data.GaapCertificateId),
    str(data.RealServerCertificateId),
    ...idsIn(data.PolyClientCertificateIds),
    ...idsIn(data.PolyClientCertificateAliasInfo),
    ...idsIn(data.PolyRealServerCertificateIds),
    ...idsIn(data.PolyRealServerCertificateAliasInfo),
  ];
  return out.filter((x): x is string => !!x && x !== 'default');
}

/** Listeners and domains (with their authentication settings) that use a certificate. */
export async function certificateUsers(tx: StoreTx, certificateId: string): Promise<string[]> {
  const users: string[] = [];
  for (const kind of [KIND.listener, KIND.domain]) {
    const { items } = await tx.list<Record<string, unknown>>(kind);
    for (const rec of items) {
      if (referencedCertificateIds(rec.data ?? {}).includes(certificateId)) {
        users.push(kind === KIND.listener ? `listener \`${rec.id}\`` : `domain \`${String(rec.data.Domain ?? rec.id)}\``);
      }
    }
  }
  return users;
}

export async function getCertificate(tx: StoreTx, id: string): Promise<CertificateData | undefined> {
  return (await tx.get<CertificateData>(KIND.certificate, id))?.data;
}

/** Whether a certificate covers a host name, for the domains that present it. */
export { certificateCovers } from './pem';
