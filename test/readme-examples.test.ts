/**
 * The README's client examples run as written against a real server: every
 * `js` block as a CommonJS script with the CA trusted through
 * NODE_EXTRA_CA_CERTS (as the README says), and every curl line. Only the
 * port (4577 in the README) and where `tclocal ca` finds the CA differ.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { RunningServer } from '../src/server';
import { startTclocal } from './helpers';

const ROOT = join(__dirname, '..', '..');
const CLI = join(ROOT, 'dist', 'src', 'cli.js');
const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
const blocks = (lang: string) => [...readme.matchAll(new RegExp('```' + lang + '\\n([\\s\\S]*?)```', 'g'))].map((m) => m[1]);

function run(command: string, args: string[], env: Record<string, string>): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (c) => (out += c));
    child.stderr.on('data', (c) => (err += c));
    child.on('close', (code) => resolve({ code, out, err }));
  });
}

describe('README examples', () => {
  let server: RunningServer;
  let caDir: string;
  before(async () => {
    server = await startTclocal({ rateLimits: false });
    caDir = join(server.caPath!, '..', '..');
  });
  after(() => server.stop());

  const withPort = (text: string) => text.replaceAll('4577', String(server.port));

  it('has Node.js examples, and each runs as a CommonJS script, again and again against the same server', async () => {
    const scripts = blocks('js');
    assert.ok(scripts.length >= 2);
    for (const script of scripts) {
      assert.doesNotMatch(script, /^\s*await\b/m, 'a CommonJS file has no top-level await');
      for (const time of ['first', 'second']) {
        const res = await run(process.execPath, ['-e', withPort(script)], { NODE_EXTRA_CA_CERTS: server.caPath! });
        assert.equal(res.code, 0, `${time} run:\n${script}\n${res.err}`);
        assert.match(res.out, /\d+ (access|destination) regions/, `${time} run:\n${script}\nprinted: ${res.out}${res.err}`);
      }
    }
  });

  it('the curl examples answer', async () => {
    const lines = blocks('sh').join('\n').replace(/\\\n\s*/g, '').split('\n').filter((l) => l.startsWith('curl '));
    assert.ok(lines.length >= 2);
    for (const line of lines) {
      const command = withPort(line).replaceAll('npx tclocal ca', `node ${JSON.stringify(CLI)} ca --ca-dir ${JSON.stringify(caDir)}`);
      const res = await run('sh', ['-c', command], {});
      assert.equal(res.code, 0, `${line}\n${res.err}`);
      const body = JSON.parse(res.out);
      assert.ok(body.Response.TotalCount > 0, `${line}\n${res.out}`);
    }
  });
});
