/**
 * What other GAAP modules may ask about global domains: which domains
 * resolve to a proxy (ProxyInfo.RelatedGlobalDomains, and a check before a
 * proxy is destroyed).
 */
import type { StoreTx } from '../../../store/types';
import type { DnsData } from './model';
import { KIND } from '../kinds';

/** IDs of the global domains whose DNS records point at `proxyId`, sorted. */
export async function relatedGlobalDomains(tx: StoreTx, proxyId: string): Promise<string[]> {
  const { items } = await tx.list<DnsData>(KIND.dnsRecord);
  const out = new Set<string>();
  for (const r of items) if (r.data.ProxyIdList.includes(proxyId)) out.add(r.data.DomainId);
  return [...out].sort();
}
