import { createPrivateKey, X509Certificate, type KeyObject } from 'node:crypto';

/**
 * Reading the material of GAAP certificates: PEM certificates and keys
 * (sent URL-encoded or as plain PEM) and basic-auth files
 * (`user:crypted-password` lines).
 */

export interface ParsedCertificate {
  /** Unix seconds. */
  beginTime: number;
  endTime: number;
  issuerCN: string;
  subjectCN: string;
  /** DNS names the leaf certificate covers: SANs, or the subject CN when there are none. */
  dnsNames: string[];
  leaf: X509Certificate;
}

/**
 * Undoes the URL encoding the API asks for. Plain PEM (the doc's second
 * example) is taken as-is; undecodable text is returned unchanged so the
 * parser reports it.
 */
export function decodeMaterial(raw: string): string {
  // Base64 and PEM armour never contain '%': its presence means URL encoding.
  if (!raw.includes('%')) return raw.replace(/\\n/g, '\n');
  try {
    let out = decodeURIComponent(raw);
    // Form-style encoding writes spaces as '+': only the PEM armour has spaces.
    if (/-----(BEGIN|END)\+/.test(out)) out = decodeURIComponent(raw.replace(/\+/g, '%20'));
    return out;
  } catch {
    return raw;
  }
}

const PEM_CERT = /-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g;

function fieldCN(dn: string): string {
  for (const line of dn.split('\n')) {
    const m = /^CN=(.*)$/.exec(line.trim());
    if (m) return m[1];
  }
  return '';
}

/** Parses a PEM bundle (leaf first, chain after); undefined when nothing readable is in it. */
export function parseCertificatePem(pem: string): ParsedCertificate | undefined {
  const blocks = pem.match(PEM_CERT);
  if (!blocks || blocks.length === 0) return undefined;
  const certs: X509Certificate[] = [];
  for (const block of blocks) {
    try {
      certs.push(new X509Certificate(block));
    } catch {
      return undefined;
    }
  }
  const leaf = certs[0];
  const begin = Date.parse(leaf.validFrom);
  const end = Date.parse(leaf.validTo);
  if (Number.isNaN(begin) || Number.isNaN(end)) return undefined;
  const sans = (leaf.subjectAltName ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.startsWith('DNS:'))
    .map((s) => s.slice(4).toLowerCase());
  const subjectCN = fieldCN(leaf.subject);
  return {
    beginTime: Math.floor(begin / 1000),
    endTime: Math.floor(end / 1000),
    issuerCN: fieldCN(leaf.issuer),
    subjectCN,
    dnsNames: sans.length > 0 ? sans : subjectCN ? [subjectCN.toLowerCase()] : [],
    leaf,
  };
}

export function parsePrivateKeyPem(pem: string): KeyObject | undefined {
  if (!/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(pem)) return undefined;
  try {
    return createPrivateKey(pem);
  } catch {
    return undefined;
  }
}

export function keyMatches(cert: X509Certificate, key: KeyObject): boolean {
  try {
    return cert.checkPrivateKey(key);
  } catch {
    return false;
  }
}

/** A basic-auth file: non-empty `user:hash` lines, no spaces. */
export function isBasicAuthContent(text: string): boolean {
  const lines = text.split(/\r?\n/).map((l) => l.trim()).filter((l) => l.length > 0);
  return lines.length > 0 && lines.every((l) => /^[^:\s]+:[^\s]+$/.test(l));
}

/** Whether a certificate name (possibly `*.example.com`) covers a host name. */
export function nameCovers(certName: string, host: string): boolean {
  const name = certName.toLowerCase();
  const h = host.toLowerCase();
  if (name === h) return true;
  if (name.startsWith('*.')) {
    const suffix = name.slice(1); // ".example.com"
    if (!h.endsWith(suffix)) return false;
    const label = h.slice(0, h.length - suffix.length);
    return label.length > 0 && !label.includes('.');
  }
  return false;
}

export const certificateCovers = (dnsNames: readonly string[], host: string): boolean => dnsNames.some((n) => nameCovers(n, host));
