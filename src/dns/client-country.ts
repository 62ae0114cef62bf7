/**
 * Which country a DNS client is in: a table of source CIDRs to
 * NationCountryInnerCode, longest prefix first. The source is the query's
 * EDNS client subnet when it carries one, else the packet's source address.
 */
import { readFileSync } from 'node:fs';
import { BlockList, isIP } from 'node:net';

export interface CountryEntry {
  cidr: string;
  code: string;
}

/** Every client, local or not, is in North China (101001, the code of the API document's examples) unless configured otherwise. */
export const DEFAULT_COUNTRY_TABLE: CountryEntry[] = [
  { cidr: '0.0.0.0/0', code: '101001' },
  { cidr: '::/0', code: '101001' },
];

export class CountryTableError extends Error {}

function parseCidr(cidr: string): { address: string; prefix: number; family: 'ipv4' | 'ipv6' } | undefined {
  const m = /^([^/]+)\/(\d{1,3})$/.exec(cidr.trim());
  if (!m) return undefined;
  const v = isIP(m[1]);
  const prefix = Number(m[2]);
  if (v === 0 || prefix > (v === 4 ? 32 : 128)) return undefined;
  return { address: m[1], prefix, family: v === 4 ? 'ipv4' : 'ipv6' };
}

/**
 * A JSON object `{"CIDR": "code", …}`, or a file holding one; empty: the
 * default table. Codes are checked against the catalogue when the server
 * starts (the DNS side does not know it here).
 */
export function parseCountryTable(raw: string, name: string): CountryEntry[] {
  let text = raw.trim();
  if (!text) return DEFAULT_COUNTRY_TABLE;
  if (!text.startsWith('{')) {
    try {
      text = readFileSync(text, 'utf8');
    } catch (err) {
      throw new CountryTableError(`${name}: cannot read the file "${raw}": ${(err as Error).message}`);
    }
  }
  let obj: unknown;
  try {
    obj = JSON.parse(text);
  } catch (err) {
    throw new CountryTableError(`${name} is not valid JSON: ${(err as Error).message}`);
  }
  if (!obj || typeof obj !== 'object' || Array.isArray(obj)) throw new CountryTableError(`${name} must be a JSON object of "CIDR": "NationCountryInnerCode"`);
  return Object.entries(obj as Record<string, unknown>).map(([cidr, code]) => {
    if (!parseCidr(cidr)) throw new CountryTableError(`${name}: "${cidr}" is not a CIDR (address/prefix)`);
    if (typeof code !== 'string' || !/^\d+$/.test(code)) throw new CountryTableError(`${name}: the code of "${cidr}" must be a numeric string`);
    return { cidr: cidr.trim(), code };
  });
}

/** Strips the IPv4-mapped prefix an IPv6 socket reports for IPv4 peers. */
export const plainAddress = (address: string): string => (address.startsWith('::ffff:') && isIP(address.slice(7)) === 4 ? address.slice(7) : address);

/** Looks a client address up in the table, longest prefix first. */
export class CountryTable {
  private readonly rules: Array<{ list: BlockList; family: 'ipv4' | 'ipv6'; code: string }>;

  constructor(entries: CountryEntry[]) {
    this.rules = entries
      .map((e) => ({ e, c: parseCidr(e.cidr)! }))
      .sort((a, b) => b.c.prefix - a.c.prefix)
      .map(({ e, c }) => {
        const list = new BlockList();
        list.addSubnet(c.address, c.prefix, c.family);
        return { list, family: c.family, code: e.code };
      });
  }

  /** The country of `address`, or undefined when no entry covers it. */
  countryOf(address: string): string | undefined {
    const a = plainAddress(address);
    const family = isIP(a) === 4 ? 'ipv4' : 'ipv6';
    for (const r of this.rules) if (r.family === family && r.list.check(a, family)) return r.code;
    return undefined;
  }
}
