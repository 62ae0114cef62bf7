/**
 * The names tclocal answers for: GAAP's proxy, group and global domains
 * under gaapqcloud.com.cn, and what each resolves to for a client of a
 * given country. Each name is asked of GAAP's view once per version of
 * its data (the first query after a change reads it again).
 */
import { isIP } from 'node:net';
import type { DnsCountryRule, DnsName, DnsProxy, GaapDnsView } from '../services/gaap/dns-view';

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

/** The zone every GAAP name lives under. */
export const GAAP_ZONE = 'gaapqcloud.com.cn';
const ZONE_SUFFIX = `.${GAAP_ZONE}`;
/** Names remembered per version before the memory starts afresh. */
const MAX_ENTRIES = 50_000;

/** The zone apex exists, with no addresses. */
const APEX: NameEntry = { rules: [], fallback: { v4: [], v6: [] } };
const UNKNOWN: NameEntry = { rules: [], fallback: null };

const addresses = (list: string[]): Answer | null =>
  list.length === 0 ? null : { v4: list.filter((a) => isIP(a) === 4), v6: list.filter((a) => isIP(a) === 6) };
const serving = (proxies: DnsProxy[]): Answer | null => addresses(proxies.filter((p) => p.serving).map((p) => p.address));
const rulesOf = (list: DnsCountryRule[]): CountryRule[] => list.map((r) => ({ codes: new Set(r.countryCodes), answer: serving(r.proxies) }));

/** GAAP's facts about a name, as answers. */
function entryOf(named: DnsName | undefined): NameEntry {
  if (!named) return UNKNOWN;
  switch (named.type) {
    case 'proxy':
      return { rules: [], fallback: serving([named.proxy]) };
    case 'group':
      return { rules: rulesOf(named.nearest), fallback: named.defaultAddress ? addresses([named.defaultAddress]) : serving(named.members) };
    case 'globalDomain':
      if (!named.resolving) return UNKNOWN;
      return {
        rules: rulesOf(named.records),
        fallback: named.defaultIsAddress ? addresses([named.defaultValue]) : { cname: named.defaultValue.replace(/\.$/, '') },
      };
  }
}

export class Zone {
  private readonly entries = new Map<string, NameEntry>();
  private entriesVersion = -1;

  constructor(private readonly view: GaapDnsView) {}

  /** The version of GAAP's data that answers now reflect (the SOA serial). */
  get version(): number {
    return this.entriesVersion;
  }

  /** True when `name` (lower case, no trailing dot) is in the zone. */
  has(name: string): boolean {
    return name === GAAP_ZONE || name.endsWith(ZONE_SUFFIX);
  }

  isApex(name: string): boolean {
    return name === GAAP_ZONE;
  }

  /**
   * What `name` (lower case, no trailing dot, in the zone) resolves to for a
   * client of `country`: the first rule listing the country that has a
   * serving proxy, else the fallback. Null: the name does not exist now.
   */
  resolve(name: string, country: string | undefined): Answer | null | Promise<Answer | null> {
    const version = this.view.version();
    if (version !== this.entriesVersion) {
      this.entries.clear();
      this.entriesVersion = version;
    }
    const known = this.entries.get(name);
    if (known) return pick(known, country);
    if (name === GAAP_ZONE) return pick(APEX, country);
    return this.view.lookup(name).then((named) => {
      const entry = entryOf(named);
      // Kept only if nothing changed while it was read.
      if (this.view.version() === version && this.entriesVersion === version) {
        if (this.entries.size >= MAX_ENTRIES) this.entries.clear();
        this.entries.set(name, entry);
      }
      return pick(entry, country);
    });
  }
}

function pick(e: NameEntry, country: string | undefined): Answer | null {
  if (country !== undefined) {
    for (const r of e.rules) if (r.answer && r.codes.has(country)) return r.answer;
  }
  return e.fallback;
}
