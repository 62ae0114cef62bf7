/**
 * Security policies at accept time: the first rule matching the client's
 * address, the listener's protocol and port decides; none matching, the
 * policy's default action. Rules are compiled once per configuration.
 */
import { BlockList, isIP } from 'node:net';
import type { SecurityPolicy } from '../services/gaap/forwarding';

interface CompiledRule {
  sources: BlockList;
  protocol: string;
  ports: (port: number) => boolean;
  accept: boolean;
}

export type AccessCheck = (clientIp: string) => boolean;

function portMatcher(spec: string): (port: number) => boolean {
  const s = spec.trim().toUpperCase();
  if (s === 'ALL' || s === '') return () => true;
  const range = /^(\d+)-(\d+)$/.exec(s);
  if (range) {
    const [lo, hi] = [Number(range[1]), Number(range[2])];
    return (p) => p >= lo && p <= hi;
  }
  const set = new Set(s.split(',').map((x) => Number(x.trim())));
  return (p) => set.has(p);
}

function sourceList(cidr: string): BlockList {
  const list = new BlockList();
  const [addr, bits] = cidr.trim().split('/');
  const family = isIP(addr);
  if (family === 0) return list;
  const type = family === 6 ? 'ipv6' : 'ipv4';
  const prefix = bits === undefined ? (family === 6 ? 128 : 32) : Number(bits);
  // BlockList masks the host bits itself: 180.180.180.180/8 covers 180.0.0.0/8.
  list.addSubnet(addr, prefix, type);
  // IPv4 rules also match clients that arrive as IPv4-mapped IPv6 addresses.
  if (family === 4) list.addSubnet(`::ffff:${addr}`, 96 + prefix, 'ipv6');
  return list;
}

/** A check for one listener (its protocol and configured port), or undefined when nothing is enforced. */
export function accessCheck(policy: SecurityPolicy | null, protocol: 'TCP' | 'UDP', port: number): AccessCheck | undefined {
  if (!policy) return undefined;
  const rules: CompiledRule[] = policy.rules
    .map((r) => ({ sources: sourceList(r.sourceCidr), protocol: r.protocol, ports: portMatcher(r.ports), accept: r.accept }))
    .filter((r) => (r.protocol === 'ALL' || r.protocol === protocol) && r.ports(port));
  const dflt = policy.defaultAccept;
  return (clientIp) => {
    const family = isIP(clientIp) === 6 ? 'ipv6' : 'ipv4';
    for (const r of rules) if (r.sources.check(clientIp, family)) return r.accept;
    return dflt;
  };
}
