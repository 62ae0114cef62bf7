/** Real PEM material for tests, made with the openssl command. */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface PemOptions {
  /** Subject alternative names; default [cn]; [] for none. */
  sans?: string[];
  /** RSA 2048 instead of an EC P-256 key. */
  rsa?: boolean;
  /** A CA certificate (basicConstraints CA:TRUE). */
  ca?: boolean;
  days?: number;
}

/** A self-signed certificate and its private key. */
export function selfSigned(cn: string, o: PemOptions = {}): { cert: string; key: string } {
  const dir = mkdtempSync(join(tmpdir(), 'tclocal-pem-'));
  try {
    const sans = o.sans ?? [cn];
    const args = [
      'req', '-x509', '-newkey', o.rsa ? 'rsa:2048' : 'ec', ...(o.rsa ? [] : ['-pkeyopt', 'ec_paramgen_curve:prime256v1']),
      '-nodes', '-keyout', join(dir, 'k.pem'), '-out', join(dir, 'c.pem'), '-days', String(o.days ?? 3650), '-subj', `/CN=${cn}/O=tclocal test`,
      '-addext', `basicConstraints=critical,CA:${o.ca ? 'TRUE' : 'FALSE'}`,
    ];
    if (sans.length) args.push('-addext', `subjectAltName=${sans.map((s) => `DNS:${s}`).join(',')}`);
    execFileSync('openssl', args, { stdio: 'ignore' });
    return { cert: readFileSync(join(dir, 'c.pem'), 'utf8'), key: readFileSync(join(dir, 'k.pem'), 'utf8') };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A certificate for `cn` issued by `ca` (a CA made by selfSigned with `ca: true`), and its private key; `sans` adds DNS names. */
export function issuedBy(ca: { cert: string; key: string }, cn: string, o: { sans?: string[] } = {}): { cert: string; key: string } {
  const dir = mkdtempSync(join(tmpdir(), 'tclocal-pem-'));
  try {
    const f = (name: string) => join(dir, name);
    writeFileSync(f('ca.pem'), ca.cert);
    writeFileSync(f('ca.key'), ca.key);
    execFileSync('openssl', ['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', f('k.pem'), '-out', f('r.csr'), '-subj', `/CN=${cn}/O=tclocal test`], { stdio: 'ignore' });
    const extensions = [];
    if (o.sans?.length) {
      writeFileSync(f('ext.cnf'), `subjectAltName=${o.sans.map((s) => `DNS:${s}`).join(',')}\n`);
      extensions.push('-extfile', f('ext.cnf'));
    }
    execFileSync('openssl', ['x509', '-req', '-in', f('r.csr'), '-CA', f('ca.pem'), '-CAkey', f('ca.key'), '-CAcreateserial', '-out', f('c.pem'), '-days', '365', ...extensions], { stdio: 'ignore' });
    return { cert: readFileSync(f('c.pem'), 'utf8'), key: readFileSync(f('k.pem'), 'utf8') };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
