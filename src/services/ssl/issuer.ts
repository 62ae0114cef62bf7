/**
 * Real certificate material: an emulator CA made once per process with the
 * `openssl` binary, leaf certificates it signs for validated domains, and the
 * parsing of uploaded PEM with node:crypto.
 */
import { execFile } from 'node:child_process';
import { createHash, createPrivateKey, generateKeyPair, X509Certificate, type KeyObject } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { CertBasicInfo } from '../../spec/ssl.types';

const run = promisify(execFile);
const genKey = promisify(generateKeyPair);

export interface IssuedMaterial {
  certificatePem: string;
  /** Leaf then CA, as the download bundle carries it. */
  publicKeyBundle: string;
  privateKeyPem: string;
  caPem: string;
  fingerprint: string;
  beginMs: number;
  endMs: number;
  encryptAlgorithm: string;
  chain: CertBasicInfo[];
}

async function withTempDir<T>(fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), 'tclocal-ssl-'));
  try {
    return await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

let ca: Promise<{ certPem: string; keyPem: string }> | undefined;

/** The emulator's CA, created on first use and kept for the life of the process. */
export function emulatorCa(): Promise<{ certPem: string; keyPem: string }> {
  if (!ca) {
    ca = withTempDir(async (dir) => {
      const { privateKey } = await genKey('ec', { namedCurve: 'prime256v1' });
      const keyPem = privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
      await writeFile(join(dir, 'ca.key'), keyPem, { mode: 0o600 });
      await run('openssl', [
        'req', '-x509', '-new', '-key', join(dir, 'ca.key'), '-days', '3650', '-sha256',
        '-subj', '/C=CN/O=tclocal/CN=tclocal Emulator CA',
        '-addext', 'basicConstraints=critical,CA:TRUE',
        '-addext', 'keyUsage=critical,keyCertSign,cRLSign',
        '-out', join(dir, 'ca.pem'),
      ]);
      return { certPem: await readFile(join(dir, 'ca.pem'), 'utf8'), keyPem };
    });
    ca.catch(() => {
      ca = undefined;
    });
  }
  return ca;
}

export function keyAlgorithm(key: KeyObject): string {
  const d = key.asymmetricKeyDetails ?? {};
  if (key.asymmetricKeyType === 'rsa') return `RSA ${d.modulusLength ?? 2048}`;
  if (key.asymmetricKeyType === 'ec') {
    const bits: Record<string, number> = { prime256v1: 256, secp384r1: 384, secp521r1: 521, SM2: 256 };
    return d.namedCurve === 'SM2' ? 'SM2 256' : `ECC ${bits[d.namedCurve ?? ''] ?? 256}`;
  }
  return (key.asymmetricKeyType ?? 'unknown').toUpperCase();
}

export const fingerprint = (cert: X509Certificate): string => cert.fingerprint.replace(/:/g, '').toLowerCase();

function chainEntry(cert: X509Certificate): CertBasicInfo {
  return {
    Issuer: cert.issuer.split('\n').join(', '),
    Subject: cert.subject.split('\n').join(', '),
    Fingerprint: fingerprint(cert),
    ValidFrom: new Date(cert.validFrom).toISOString(),
    ValidTo: new Date(cert.validTo).toISOString(),
  };
}

export interface IssueRequest {
  domain: string;
  sans: string[];
  algo: 'RSA' | 'ECC';
  /** RSA modulus length or EC curve name. */
  keyParameter: string;
  /** Encrypts the returned private key when set. */
  keyPassword: string | null;
  days: number;
}

/** Generates a key and a certificate for `sans`, signed by the emulator CA. */
export async function issue(req: IssueRequest): Promise<IssuedMaterial> {
  const authority = await emulatorCa();
  const { privateKey } = req.algo === 'ECC'
    ? await genKey('ec', { namedCurve: req.keyParameter || 'prime256v1' })
    : await genKey('rsa', { modulusLength: Number(req.keyParameter) || 2048 });
  const certificatePem = await withTempDir(async (dir) => {
    await writeFile(join(dir, 'leaf.key'), privateKey.export({ type: 'pkcs8', format: 'pem' }) as string, { mode: 0o600 });
    await writeFile(join(dir, 'ca.key'), authority.keyPem, { mode: 0o600 });
    await writeFile(join(dir, 'ca.pem'), authority.certPem);
    const cn = req.domain.replace(/[/\\=+,]/g, '');
    await run('openssl', [
      'req', '-x509', '-new', '-key', join(dir, 'leaf.key'), '-CA', join(dir, 'ca.pem'), '-CAkey', join(dir, 'ca.key'),
      '-days', String(req.days), '-sha256', '-subj', `/CN=${cn}`,
      '-addext', `subjectAltName=${req.sans.map((s) => `DNS:${s}`).join(',')}`,
      '-addext', 'basicConstraints=critical,CA:FALSE',
      '-addext', 'keyUsage=critical,digitalSignature,keyEncipherment',
      '-addext', 'extendedKeyUsage=serverAuth,clientAuth',
      '-out', join(dir, 'leaf.pem'),
    ]);
    return readFile(join(dir, 'leaf.pem'), 'utf8');
  });
  const leaf = new X509Certificate(certificatePem);
  const root = new X509Certificate(authority.certPem);
  const keyType = req.algo === 'ECC' ? 'sec1' : 'pkcs1';
  const privateKeyPem = (req.keyPassword
    ? privateKey.export({ type: keyType, format: 'pem', cipher: 'aes-256-cbc', passphrase: req.keyPassword })
    : privateKey.export({ type: keyType, format: 'pem' })) as string;
  return {
    certificatePem,
    publicKeyBundle: certificatePem.trimEnd() + '\n' + authority.certPem.trimEnd() + '\n',
    privateKeyPem,
    caPem: authority.certPem,
    fingerprint: fingerprint(leaf),
    beginMs: Date.parse(leaf.validFrom),
    endMs: Date.parse(leaf.validTo),
    encryptAlgorithm: keyAlgorithm(leaf.publicKey),
    chain: [chainEntry(leaf), chainEntry(root)],
  };
}

/**
 * Issuance prepared in the background when a review starts, so applying the
 * `issue` transition (inside a store transaction) only waits for work that is
 * normally already done.
 */
const prepared = new Map<string, Promise<IssuedMaterial>>();

export function prepareIssue(key: string, req: IssueRequest): void {
  if (prepared.has(key)) return;
  if (prepared.size > 10_000) prepared.clear();
  const p = issue(req);
  p.catch(() => prepared.delete(key));
  prepared.set(key, p);
}

export function takeIssue(key: string, req: IssueRequest): Promise<IssuedMaterial> {
  const p = prepared.get(key);
  prepared.delete(key);
  return p ? p.catch(() => issue(req)) : issue(req);
}

export function dropIssue(key: string): void {
  prepared.delete(key);
}

export type UploadProblem =
  | { code: 'parse'; detail: string }
  | { code: 'key'; detail: string }
  | { code: 'mismatch' }
  | { code: 'chain'; detail: string }
  | { code: 'ca' };

export interface ParsedUpload {
  domain: string;
  sans: string[];
  beginMs: number;
  endMs: number;
  fingerprint: string;
  encryptAlgorithm: string;
  issuerName: string;
  chain: CertBasicInfo[];
  publicKeyPem: string;
  privateKeyPem: string | null;
  isCa: boolean;
}

const PEM_CERT = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

function attr(dn: string, name: string): string | undefined {
  for (const line of dn.split('\n')) {
    const eq = line.indexOf('=');
    if (eq > 0 && line.slice(0, eq).trim() === name) return line.slice(eq + 1).trim();
  }
  return undefined;
}

/** Parses an uploaded certificate (with its chain) and key; returns the first problem found. */
export function parseUpload(publicPem: string, privatePem: string | undefined, password: string | undefined, type: 'SVR' | 'CA'):
  ParsedUpload | UploadProblem {
  const blocks = publicPem.replace(/\r\n/g, '\n').match(PEM_CERT);
  if (!blocks) return { code: 'parse', detail: 'no PEM certificate block found' };
  let certs: X509Certificate[];
  try {
    certs = blocks.map((b) => new X509Certificate(b));
  } catch (err) {
    return { code: 'parse', detail: (err as Error).message };
  }
  const leaf = certs[0];
  if (type === 'CA' && !leaf.ca) return { code: 'ca' };
  for (let i = 0; i + 1 < certs.length; i++) {
    let linked: boolean;
    try {
      linked = certs[i].checkIssued(certs[i + 1]) && certs[i].verify(certs[i + 1].publicKey);
    } catch {
      linked = false;
    }
    if (!linked) return { code: 'chain', detail: `certificate ${i + 1} of the chain is not issued by certificate ${i + 2}` };
  }
  let privateKeyPem: string | null = null;
  if (privatePem !== undefined && privatePem.trim() !== '') {
    let key: KeyObject;
    try {
      key = createPrivateKey({ key: privatePem, format: 'pem', passphrase: password ?? '' });
    } catch (err) {
      return { code: 'key', detail: (err as Error).message };
    }
    let matches: boolean;
    try {
      matches = leaf.checkPrivateKey(key);
    } catch {
      matches = false;
    }
    if (!matches) return { code: 'mismatch' };
    privateKeyPem = privatePem;
  }
  const sans = (leaf.subjectAltName ?? '')
    .split(/,\s*/)
    .filter((s) => s.startsWith('DNS:'))
    .map((s) => s.slice(4));
  const cn = attr(leaf.subject, 'CN');
  const domain = cn ?? sans[0] ?? '';
  if (domain && !sans.includes(domain)) sans.unshift(domain);
  return {
    domain,
    sans,
    beginMs: Date.parse(leaf.validFrom),
    endMs: Date.parse(leaf.validTo),
    fingerprint: fingerprint(leaf),
    encryptAlgorithm: keyAlgorithm(leaf.publicKey),
    issuerName: attr(leaf.issuer, 'CN') ?? attr(leaf.issuer, 'O') ?? '',
    chain: certs.map(chainEntry),
    publicKeyPem: blocks.join('\n') + '\n',
    privateKeyPem,
    isCa: leaf.ca,
  };
}

export const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');
