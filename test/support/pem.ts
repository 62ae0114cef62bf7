/** Real PEM material for tests, made with the openssl command. */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
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
