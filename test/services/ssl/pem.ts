/** Real PEM material for upload tests, made with the openssl binary. */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export async function selfSigned(cn: string, opts: { days?: number; sans?: string[]; ec?: boolean; ca?: boolean } = {}): Promise<{ cert: string; key: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'ssl-test-'));
  try {
    const sans = opts.sans ?? [cn];
    await run('openssl', [
      'req', '-x509', '-newkey', opts.ec ? 'ec' : 'rsa:2048', ...(opts.ec ? ['-pkeyopt', 'ec_paramgen_curve:prime256v1'] : []),
      '-nodes', '-keyout', join(dir, 'k.pem'), '-out', join(dir, 'c.pem'), '-days', String(opts.days ?? 30), '-subj', `/CN=${cn}`,
      '-addext', `subjectAltName=${sans.map((s) => `DNS:${s}`).join(',')}`,
      '-addext', `basicConstraints=critical,CA:${opts.ca ? 'TRUE' : 'FALSE'}`,
    ]);
    return { cert: await readFile(join(dir, 'c.pem'), 'utf8'), key: await readFile(join(dir, 'k.pem'), 'utf8') };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
