/**
 * What GAAP tells a DNS server: what stands behind a name it hands out
 * (proxy `Domain`, group domain, global domain `FullDomain`), with GAAP's
 * own rules already applied (which proxies serve, which domains resolve,
 * which DNS records are in effect). The DNS server imports only this
 * module; GAAP knows nothing of DNS wire formats.
 *
 * A lookup is a few indexed reads: proxy and group domains are named after
 * their IDs (`<id>.gaapqcloud.com.cn`), global domains are found by their
 * FullDomain index, and the ID's prefix says which to read. Names are
 * global, tenants are not: every account is asked.
 */
import { isIP } from 'node:net';
import type { CommitChanges, ResourceRecord, Store, StoreTx } from '../../store/types';
import { isCountryCode } from './catalogue/countries';
import { DNS_STATUS, DOMAIN_STATUS, dnsRecordsOf, type GlobalDomainData } from './globaldomain/model';
import { KIND } from './kinds';
import { BANNED, proxyServes } from './proxy/model';
import { DOMAIN_CONF_NS } from './group/model';

/** A proxy: its access domain and the address the API reports as its `IP`. */
export interface DnsProxy {
  proxyId: string;
  /** ProxyInfo.IP (IPv4 or IPv6). */
  address: string;
  /** True while the proxy carries traffic: running (or changing while running) and not banned. */
  serving: boolean;
}

/** Which proxies answer clients of some countries. */
export interface DnsCountryRule {
  countryCodes: string[];
  proxies: DnsProxy[];
}

/** A proxy's own domain. */
export interface DnsProxyName {
  type: 'proxy';
  proxy: DnsProxy;
}

/**
 * A proxy group's domain (CreateProxyGroupDomain). Nearest access
 * (ModifyGroupDomainConfig): a client whose country is listed for an access
 * region gets the group's proxies in that region; others get
 * `defaultAddress` when one is configured, else every member.
 */
export interface DnsGroupName {
  type: 'group';
  members: DnsProxy[];
  nearest: DnsCountryRule[];
  /** DefaultDnsIp, or null while none is configured. */
  defaultAddress: string | null;
}

/** A global domain (统一域名) and its DNS records in effect. */
export interface DnsGlobalName {
  type: 'globalDomain';
  /** False while disabled (any Status but open) or banned: the name does not resolve. */
  resolving: boolean;
  /** DefaultValue: an IP address (`defaultIsAddress`) or a host name. */
  defaultValue: string;
  defaultIsAddress: boolean;
  records: DnsCountryRule[];
}

export type DnsName = DnsProxyName | DnsGroupName | DnsGlobalName;

/** The DNS server's window on GAAP. */
export interface GaapDnsView {
  /** Moves whenever an answer may have changed; what lookup() returned while it had its current value is current. */
  version(): number;
  /** What stands behind `name` (lower case, no trailing dot), or undefined when GAAP hands out no such name. */
  lookup(name: string): Promise<DnsName | undefined>;
  /** True for a code DescribeCountryAreaMapping lists. */
  isCountryCode(code: string): boolean;
}

/** Group statuses in which its domain is not answered yet, or any more. */
const GROUP_GONE: ReadonlySet<string> = new Set(['CREATING', 'DESTROYING']);

/** Kinds (and keyed-value namespaces) whose changes may change an answer. */
const WATCHED = [KIND.proxy, KIND.group, KIND.globalDomain, KIND.dnsRecord, `kv:${DOMAIN_CONF_NS}`];

const str = (v: unknown): string => (typeof v === 'string' ? v : '');
const sameName = (domain: unknown, name: string): boolean => str(domain).toLowerCase().replace(/\.$/, '') === name;

function proxyOf(r: ResourceRecord<Record<string, unknown>>): DnsProxy {
  const d = r.data;
  const address = str(d.IP);
  return {
    proxyId: r.id,
    address,
    serving: proxyServes(r.status ?? '', d) && isIP(address) !== 0,
  };
}

async function proxiesById(tx: StoreTx, ids: string[]): Promise<DnsProxy[]> {
  const out: DnsProxy[] = [];
  for (const id of ids) {
    const r = await tx.get<Record<string, unknown>>(KIND.proxy, id);
    if (r) out.push(proxyOf(r));
  }
  return out;
}

/** What kind of name the first label can be: GAAP's IDs (resourceId) start with `link-` (proxy), `lg-` (group) or `gd-` (global domain). */
const NAMED_BY_PREFIX = new Map<string, DnsName['type']>([['link', 'proxy'], ['lg', 'group'], ['gd', 'globalDomain']]);

async function lookupIn(tx: StoreTx, type: DnsName['type'], name: string, id: string): Promise<DnsName | undefined> {
  if (type === 'proxy') {
    const proxy = await tx.get<Record<string, unknown>>(KIND.proxy, id);
    return proxy && sameName(proxy.data.Domain, name) ? { type: 'proxy', proxy: proxyOf(proxy) } : undefined;
  }
  if (type === 'group') {
    const group = await tx.get<Record<string, unknown>>(KIND.group, id);
    if (!group || !sameName(group.data.Domain, name) || GROUP_GONE.has(group.status ?? '')) return undefined;
    const records = (await tx.list<Record<string, unknown>>(KIND.proxy, { parent: id })).items;
    const conf = (await tx.kvGet<Record<string, string[]>>(DOMAIN_CONF_NS, id)) ?? {};
    const def = str(group.data.DnsDefaultIp);
    return {
      type: 'group',
      members: records.map(proxyOf),
      nearest: Object.entries(conf).map(([region, codes]) => ({
        countryCodes: codes,
        proxies: records.filter((p) => p.data.AccessRegion === region).map(proxyOf),
      })),
      defaultAddress: isIP(def) ? def : null,
    };
  }

  const { items } = await tx.list<GlobalDomainData>(KIND.globalDomain, { where: [{ field: 'FullDomain', values: [name] }] });
  const domain = items[0];
  if (!domain) return undefined;
  const records: DnsCountryRule[] = [];
  for (const r of await dnsRecordsOf(tx, domain.id)) {
    // A record is in effect from the request that creates or changes it until the request that deletes it.
    if (r.data.Status === DNS_STATUS.deleting) continue;
    records.push({ countryCodes: r.data.NationCountryInnerCodes, proxies: await proxiesById(tx, r.data.ProxyIdList) });
  }
  const d = domain.data;
  return {
    type: 'globalDomain',
    resolving: d.Status === DOMAIN_STATUS.open && !BANNED.has(d.BanStatus),
    defaultValue: d.DefaultValue,
    defaultIsAddress: isIP(d.DefaultValue) !== 0,
    records,
  };
}

/** True when a commit wrote a kind the names are read from (or changed everything). */
function touchesNames(changes: CommitChanges): boolean {
  for (const kinds of changes.values()) {
    if (kinds.has('*') || WATCHED.some((k) => kinds.has(k))) return true;
  }
  return false;
}

export function gaapDnsView(store: Store): GaapDnsView {
  // Follows the store like the data plane does: the version moves when a commit touched what names are read from.
  let version = 0;
  store.onCommit((changes) => {
    if (touchesNames(changes)) version++;
  });
  return {
    version: () => version,
    async lookup(name) {
      const id = name.slice(0, Math.max(0, name.indexOf('.')));
      const type = NAMED_BY_PREFIX.get(id.slice(0, Math.max(0, id.indexOf('-'))));
      // Any other name was never handed out: no read needed.
      if (!type) return undefined;
      for (const account of await store.accounts()) {
        const found = await store.transaction(account, (tx) => lookupIn(tx, type, name, id));
        if (found) return found;
      }
      return undefined;
    },
    isCountryCode,
  };
}
