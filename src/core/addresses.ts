/** What kind of IP address a string is, the same way for every rule that asks. */
import { isIP } from 'node:net';
import { networkInterfaces } from 'node:os';

/** `::ffff:1.2.3.4` → `1.2.3.4`; lower-case, brackets removed. */
export function normaliseAddress(address: string): string {
  let a = address.toLowerCase().replace(/^\[|\]$/g, '');
  const mapped = /^(?:0{0,4}:){0,5}:?ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(a);
  if (mapped) a = mapped[1];
  const hexMapped = /^(?:0{0,4}:){0,5}:?ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(a);
  if (hexMapped) {
    const hi = parseInt(hexMapped[1], 16);
    const lo = parseInt(hexMapped[2], 16);
    a = `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`;
  }
  return a;
}

const v4 = (a: string): number[] => a.split('.').map(Number);

/** The eight 16-bit groups of an IPv6 address. */
function v6Groups(a: string): number[] {
  const [head, tail] = a.includes('::') ? a.split('::') : [a, undefined];
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const groups = [...h, ...Array(8 - h.length - t.length).fill('0'), ...t];
  return groups.map((g) => parseInt(g, 16) || 0);
}

/** 127/8 and ::1 are loopback; 0.0.0.0/8 and :: unspecified; 169.254/16, fe80::/10 and the cloud metadata addresses link-local. */
export function classifyAddress(address: string): 'loopback' | 'unspecified' | 'link-local' | 'multicast' | 'other' {
  const a = normaliseAddress(address);
  if (isIP(a) === 4) {
    const [x, y] = v4(a);
    if (x === 127) return 'loopback';
    if (x === 0) return 'unspecified';
    if ((x === 169 && y === 254) || a === '100.100.100.200') return 'link-local';
    if (x >= 224) return 'multicast';
    return 'other';
  }
  const g = v6Groups(a);
  if (g.every((n) => n === 0)) return 'unspecified';
  if (g.slice(0, 7).every((n) => n === 0) && g[7] === 1) return 'loopback';
  if ((g[0] & 0xffc0) === 0xfe80) return 'link-local';
  if (g[0] === 0xfd00 && g[1] === 0x0ec2 && g.slice(2, 7).every((n) => n === 0) && g[7] === 0x254) return 'link-local';
  if ((g[0] & 0xff00) === 0xff00) return 'multicast';
  return 'other';
}

/** The addresses of this machine's interfaces, normalised. */
export function localAddresses(): Set<string> {
  const out = new Set<string>();
  for (const list of Object.values(networkInterfaces())) for (const i of list ?? []) out.add(normaliseAddress(i.address));
  return out;
}

/** A loopback IP literal (127/8, ::1, IPv4-mapped loopback). */
export const isLoopbackAddress = (address: string): boolean => isIP(normaliseAddress(address)) !== 0 && classifyAddress(address) === 'loopback';
