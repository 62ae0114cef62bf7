/**
 * Which country a DNS client is in: a table of source CIDRs to
 * NationCountryInnerCode, longest prefix first. The source is the query's
 * EDNS client subnet when it carries one, else the packet's source address.
 */
import { BlockList, isIP } from 'node:net';

export interface CountryEntry {
  cidr: string;
  code: string;
}

/** A CIDR (`address/prefix`) taken apart, or undefined when it is not one. */
export function checkCidr(cidr: string): { address: string; prefix: number; family: 'ipv4' | 'ipv6' } | undefined {
  const m = /^([^/]+)\/(\d{1,3})$/.exec(cidr.trim());
  if (!m) return undefined;
  const v = isIP(m[1]);
  const prefix = Number(m[2]);
  if (v === 0 || prefix > (v === 4 ? 32 : 128)) return undefined;
  return { address: m[1], prefix, family: v === 4 ? 'ipv4' : 'ipv6' };
}

const KNOWN_ADDRESSES = 10_000;

/** Strips the IPv4-mapped prefix an IPv6 socket reports for IPv4 peers. */
export const plainAddress = (address: string): string => (address.startsWith('::ffff:') && isIP(address.slice(7)) === 4 ? address.slice(7) : address);

/** Looks a client address up in the table, longest prefix first. */
export class CountryTable {
  private readonly rules: Array<{ list: BlockList; family: 'ipv4' | 'ipv6'; code: string }>;

  constructor(entries: CountryEntry[]) {
    this.rules = entries
      .map((e) => ({ e, c: checkCidr(e.cidr)! }))
      .sort((a, b) => b.c.prefix - a.c.prefix)
      .map(({ e, c }) => {
        const list = new BlockList();
        list.addSubnet(c.address, c.prefix, c.family);
        return { list, family: c.family, code: e.code };
      });
  }

  /** Addresses already looked up (a BlockList check allocates): most queries come from a few. */
  private readonly known = new Map<string, string | undefined>();

  /** The country of `address`, or undefined when no entry covers it. */
  countryOf(address: string): string | undefined {
    if (this.known.has(address)) return this.known.get(address);
    const a = plainAddress(address);
    const family = isIP(a) === 4 ? 'ipv4' : 'ipv6';
    const code = this.rules.find((r) => r.family === family && r.list.check(a, family))?.code;
    if (this.known.size >= KNOWN_ADDRESSES) this.known.clear();
    this.known.set(address, code);
    return code;
  }
}
