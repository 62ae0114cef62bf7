/**
 * What GAAP tells a DNS server: the names it hands out (proxy `Domain`,
 * group domain, global domain `FullDomain`) and what stands behind each,
 * with GAAP's own rules already applied (which proxies serve, which domains
 * resolve, which DNS records are in effect). The DNS server imports only
 * this module; GAAP knows nothing of DNS wire formats.
 *
 * Reads span every account: names are global, tenants are not.
 */
import { isIP } from 'node:net';
import type { Store, StoreTx } from '../../store/types';
import { isCountryCode } from './catalogue-countries';
import { DNS_STATUS, DOMAIN_STATUS, type DnsData, type DomainData } from './globaldomain-model';
import { DOMAIN_CONF_NS } from './groups';
import { KIND } from './model';
import { PROXY } from './proxy-common';

/** A proxy: its access domain and the address the API reports as its `IP`. */
export interface DnsProxy {
  proxyId: string;
  /** ProxyInfo.Domain, lower case. */
  domain: string;
  /** ProxyInfo.IP (IPv4 or IPv6). */
  address: string;
  /** True while the proxy carries traffic: running (or changing while running) and not banned. */
  serving: boolean;
  accessRegion: string;
}

/** Which proxies answer clients of some countries. */
export interface DnsCountryRule {
  countryCodes: string[];
  proxyIds: string[];
}

/**
 * A proxy group with a domain (CreateProxyGroupDomain). Nearest access
 * (ModifyGroupDomainConfig): a client whose country is listed for an access
 * region gets the group's proxies in that region; others get `defaultAddress`
 * when one is configured, else every member.
 */
export interface DnsGroup {
  groupId: string;
  domain: string;
  memberIds: string[];
  nearest: DnsCountryRule[];
  /** DefaultDnsIp, or null while none is configured. */
  defaultAddress: string | null;
}

/** A global domain (统一域名) and its DNS records in effect. */
export interface DnsGlobalDomain {
  domainId: string;
  /** FullDomain, lower case. */
  fullDomain: string;
  /** False while disabled (any Status but open) or banned: the name does not resolve. */
  resolving: boolean;
  /** DefaultValue: an IP address (`defaultIsAddress`) or a host name. */
  defaultValue: string;
  defaultIsAddress: boolean;
  records: DnsCountryRule[];
}

/** One account's names. Proxy IDs in rules refer to `proxies` of the same account. */
export interface DnsAccountView {
  proxies: Map<string, DnsProxy>;
  groups: DnsGroup[];
  globalDomains: DnsGlobalDomain[];
}

/** Proxy statuses in which a proxy carries traffic: running, or changing its configuration while running. */
const SERVING: ReadonlySet<string> = new Set([PROXY.RUNNING, PROXY.ADJUSTING, PROXY.MOVING]);
/** BanStatus values under which a resource is blocked: banned, being unbanned, or failed to be unbanned. */
const BANNED: ReadonlySet<string> = new Set(['BANNED', 'RECOVERING', 'RECOVER_FAILED']);
/** Group statuses in which its domain is not answered yet, or any more. */
const GROUP_GONE: ReadonlySet<string> = new Set(['CREATING', 'DESTROYING']);

/** Kinds (and keyed-value namespaces) whose changes may change an answer. */
const WATCHED = [KIND.proxy, KIND.group, KIND.globalDomain, KIND.dnsRecord, `kv:${DOMAIN_CONF_NS}`];

const str = (v: unknown): string => (typeof v === 'string' ? v : '');
const lower = (name: string): string => name.toLowerCase().replace(/\.$/, '');

async function readAccount(tx: StoreTx): Promise<DnsAccountView> {
  const proxies = new Map<string, DnsProxy>();
  const byGroup = new Map<string, DnsProxy[]>();
  for (const r of (await tx.list<Record<string, unknown>>(KIND.proxy)).items) {
    const d = r.data;
    const p: DnsProxy = {
      proxyId: r.id,
      domain: lower(str(d.Domain)),
      address: str(d.IP),
      serving: SERVING.has(r.status ?? '') && d.InBanBlacklist !== 1 && !BANNED.has(str(d.BanStatus)) && isIP(str(d.IP)) !== 0,
      accessRegion: str(d.AccessRegion),
    };
    proxies.set(r.id, p);
    if (r.parent) byGroup.set(r.parent, [...(byGroup.get(r.parent) ?? []), p]);
  }

  const groups: DnsGroup[] = [];
  for (const g of (await tx.list<Record<string, unknown>>(KIND.group)).items) {
    const domain = str(g.data.Domain);
    if (!domain || GROUP_GONE.has(g.status ?? '')) continue;
    const members = byGroup.get(g.id) ?? [];
    const conf = (await tx.kvGet<Record<string, string[]>>(DOMAIN_CONF_NS, g.id)) ?? {};
    const nearest = Object.entries(conf).map(([region, codes]) => ({
      countryCodes: codes,
      proxyIds: members.filter((p) => p.accessRegion === region).map((p) => p.proxyId),
    }));
    const def = str(g.data.DnsDefaultIp);
    groups.push({ groupId: g.id, domain: lower(domain), memberIds: members.map((p) => p.proxyId), nearest, defaultAddress: isIP(def) ? def : null });
  }

  const records = new Map<string, DnsCountryRule[]>();
  for (const r of (await tx.list<DnsData>(KIND.dnsRecord)).items) {
    // A record is in effect from the request that creates or changes it until the request that deletes it.
    if (r.data.Status === DNS_STATUS.deleting) continue;
    const list = records.get(r.data.DomainId) ?? [];
    list.push({ countryCodes: r.data.NationCountryInnerCodes, proxyIds: r.data.ProxyIdList });
    records.set(r.data.DomainId, list);
  }
  const globalDomains: DnsGlobalDomain[] = (await tx.list<DomainData>(KIND.globalDomain)).items.map((r) => ({
    domainId: r.id,
    fullDomain: lower(r.data.FullDomain),
    resolving: r.data.Status === DOMAIN_STATUS.open && !BANNED.has(r.data.BanStatus),
    defaultValue: r.data.DefaultValue,
    defaultIsAddress: isIP(r.data.DefaultValue) !== 0,
    records: records.get(r.id) ?? [],
  }));
  return { proxies, groups, globalDomains };
}

/** The DNS server's window on GAAP. */
export interface GaapDnsView {
  /** Moves whenever an answer may have changed; what read() returned while it had its current value is current. */
  version(): number;
  /** Every account's names. */
  read(): Promise<DnsAccountView[]>;
  /** True for a code DescribeCountryAreaMapping lists. */
  isCountryCode(code: string): boolean;
}

export function gaapDnsView(store: Store): GaapDnsView {
  return {
    version: () => store.changeCount(WATCHED),
    async read() {
      const out: DnsAccountView[] = [];
      for (const account of await store.accounts()) out.push(await store.transaction(account, readAccount));
      return out;
    },
    isCountryCode,
  };
}
