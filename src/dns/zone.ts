/**
 * The names tclocal answers for, built from GAAP's view: every proxy
 * domain, group domain and global domain, and what each resolves to for a
 * client of a given country.
 */
import { isIP } from 'node:net';
import type { DnsAccountView, DnsCountryRule, DnsProxy } from '../services/gaap/dns-view';

/** What a name resolves to: addresses, or another name. */
export type Answer = { v4: string[]; v6: string[]; cname?: undefined } | { cname: string };

interface CountryRule {
  codes: ReadonlySet<string>;
  /** Null when none of the rule's proxies serves: the client gets the fallback. */
  answer: Answer | null;
}

interface NameEntry {
  rules: CountryRule[];
  /** Null: the name does not resolve now (NXDOMAIN). */
  fallback: Answer | null;
}

/** The zone every GAAP name lives under (more are added from the names themselves). */
export const GAAP_ZONE = 'gaapqcloud.com.cn';

const addresses = (list: string[]): Answer | null => {
  if (list.length === 0) return null;
  return { v4: list.filter((a) => isIP(a) === 4), v6: list.filter((a) => isIP(a) === 6) };
};

/** A name that exists with no addresses (a zone apex). */
const NO_ADDRESSES: Answer = { v4: [], v6: [] };

export class Zone {
  private readonly names = new Map<string, NameEntry>();
  /** Apexes: the parents of every name, and GAAP_ZONE. */
  private readonly apexes = new Set<string>([GAAP_ZONE]);

  constructor(accounts: DnsAccountView[]) {
    for (const a of accounts) {
      const serving = (ids: string[]) => addresses(ids.map((id) => a.proxies.get(id)).filter((p): p is DnsProxy => !!p?.serving).map((p) => p.address));
      const rules = (list: DnsCountryRule[]) => list.map((r) => ({ codes: new Set(r.countryCodes), answer: serving(r.proxyIds) }));
      for (const p of a.proxies.values()) this.add(p.domain, { rules: [], fallback: p.serving ? addresses([p.address]) : null });
      for (const g of a.groups) {
        this.add(g.domain, { rules: rules(g.nearest), fallback: g.defaultAddress ? addresses([g.defaultAddress]) : serving(g.memberIds) });
      }
      for (const d of a.globalDomains) {
        if (!d.resolving) {
          this.add(d.fullDomain, { rules: [], fallback: null });
          continue;
        }
        const fallback: Answer = d.defaultIsAddress ? addresses([d.defaultValue])! : { cname: d.defaultValue.replace(/\.$/, '') };
        this.add(d.fullDomain, { rules: rules(d.records), fallback });
      }
    }
  }

  private add(name: string, entry: NameEntry): void {
    if (!name) return;
    this.names.set(name, entry);
    const dot = name.indexOf('.');
    if (dot > 0) this.apexes.add(name.slice(dot + 1));
  }

  /**
   * What `name` (lower case, no trailing dot) resolves to for a client of
   * `country`: the first rule listing the country that has a serving proxy,
   * else the fallback. Null: the name does not exist now; undefined: it is
   * not ours at all.
   */
  resolve(name: string, country: string | undefined): Answer | null | undefined {
    const e = this.names.get(name);
    if (!e) return this.apexes.has(name) ? NO_ADDRESSES : this.apexOf(name) === undefined ? undefined : null;
    if (country !== undefined) {
      for (const r of e.rules) if (r.answer && r.codes.has(country)) return r.answer;
    }
    return e.fallback;
  }

  /** The zone apex `name` falls under, if any. */
  apexOf(name: string): string | undefined {
    for (let s = name; ; ) {
      if (this.apexes.has(s)) return s;
      const dot = s.indexOf('.');
      if (dot < 0) return undefined;
      s = s.slice(dot + 1);
    }
  }

  isApex(name: string): boolean {
    return this.apexes.has(name);
  }
}
