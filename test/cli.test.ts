/**
 * The command line: start-up errors that name the bad setting, start to
 * ready, export/import of the whole state, and durability of acknowledged
 * writes across `kill -9`.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createSocket } from 'node:dgram';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, describe, it } from 'node:test';
import { OPTIONS } from '../src/config';
import { cnClient } from './helpers';

const CLI = resolve(__dirname, '../src/cli.js');
const dirs: string[] = [];
const tempDir = () => {
  const d = mkdtempSync(join(tmpdir(), 'tclocal-cli-'));
  dirs.push(d);
  return d;
};
after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

const freePort = () =>
  new Promise<number>((res) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => res(port));
    });
  });

/** The CA of servers started here (an --in-memory server would otherwise keep it in ~/.tclocal). */
const CA_DIR = join(tmpdir(), 'tclocal-test-ca');
const run = (args: string[], env: Record<string, string> = {}, cwd?: string) =>
  spawnSync(process.execPath, [CLI, ...args], { cwd, env: { TCLOCAL_CA_DIR: CA_DIR, ...process.env, ...env }, encoding: 'utf8', timeout: 20_000 });

async function startCli(dataDir: string, port: number, env: Record<string, string> = {}, spawned?: (child: ChildProcess) => void): Promise<ChildProcess> {
  const child = spawn(process.execPath, [CLI, 'start', '--port', String(port), '--dns-port', '0', '--data-dir', dataDir, '--rate-limits', 'off', '--log-level', 'warn'], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
  spawned?.(child);
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    try {
      const res = await fetch(`http://127.0.0.1:${port}/_tclocal/health`);
      if (res.ok && ((await res.json()) as { status: string }).status === 'ready') return child;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 25));
  }
  child.kill('SIGKILL');
  throw new Error('tclocal did not become ready');
}

const basicAuthFile = (n: number) => `user${n}:$apr1$abcdefgh$0123456789abcdefghijkl`;

describe('tclocal command line', () => {
  it('--help lists every option with its environment twin', () => {
    const out = run(['--help']);
    assert.equal(out.status, 0);
    for (const name of ['--port', 'TCLOCAL_PORT', '--host', 'TCLOCAL_HOST', '--data-dir', 'TCLOCAL_DATA_DIR', 'TCLOCAL_IN_MEMORY', 'TCLOCAL_ACCOUNTS', 'TCLOCAL_AUTH', 'TCLOCAL_TRANSITION_MS', 'TCLOCAL_RATE_LIMITS', 'TCLOCAL_SSL_REVIEW_MS', 'TCLOCAL_AMS_AUDIO_MS', 'export', 'import', 'reset']) {
      assert.ok(out.stdout.includes(name), `help lacks ${name}`);
    }
  });

  it('the README configuration table lists every option with its environment twin', () => {
    const readme = readFileSync(resolve(__dirname, '../../README.md'), 'utf8');
    for (const o of OPTIONS) {
      assert.ok(readme.includes(`| \`${o.flag}`), `README lacks ${o.flag}`);
      assert.ok(readme.includes(`\`${o.env}\``), `README lacks ${o.env}`);
    }
  });

  it('an invalid setting stops start-up with a message naming it', () => {
    const cases: Array<[string[], Record<string, string>, RegExp]> = [
      [['start'], { TCLOCAL_PORT: 'eighty' }, /TCLOCAL_PORT/],
      [['start', '--port', '70000'], {}, /--port/],
      [['start'], { TCLOCAL_AUTH: 'maybe' }, /TCLOCAL_AUTH must be one of lenient, strict/],
      [['start'], { TCLOCAL_ACCOUNTS: '[{"secretId":"x"}]' }, /TCLOCAL_ACCOUNTS\[0\]\.secretKey/],
      [['start'], { TCLOCAL_ACCOUNTS: '/no/such/file.json' }, /TCLOCAL_ACCOUNTS: cannot read accounts file/],
      [['start'], { TCLOCAL_TRANSITION_MS: '-5' }, /TCLOCAL_TRANSITION_MS/],
      [['start'], { TCLOCAL_SSL_REVIEW_MS: 'soon' }, /TCLOCAL_SSL_REVIEW_MS must be an integer/],
      [['start', '--ams-audio-ms', '-1'], {}, /--ams-audio-ms must be an integer/],
      [['start', '--bogus', '1'], {}, /unknown option --bogus/],
      [['frobnicate'], {}, /unknown command/],
    ];
    for (const [args, env, message] of cases) {
      const out = run(args, env);
      assert.equal(out.status, 2, `${args.join(' ')} ${JSON.stringify(env)} should exit 2: ${out.stderr}`);
      assert.match(out.stderr, message);
    }
  });

  it('--help shows each default and keeps long flags apart from their text', () => {
    const out = run(['--help']).stdout;
    const lines = out.split('\n');
    const ams = lines.findIndex((l) => l.startsWith('  --ams-audio-ms'));
    assert.doesNotMatch(lines[ams + 1], /built-in account/);
    const backdate = lines.find((l) => l.startsWith('  --gaap-create-time-backdate'))!;
    assert.equal(backdate.trim(), '--gaap-create-time-backdate S');
  });

  it('a data directory that cannot be created, or a corrupt database, stops start-up with exit code 2', () => {
    const file = join(tempDir(), 'a-file');
    writeFileSync(file, 'not a directory');
    let out = run(['start', '--port', '0', '--data-dir', join(file, 'data')]);
    assert.equal(out.status, 2, out.stderr);
    assert.match(out.stderr, /^tclocal: cannot use --data-dir .*ENOTDIR/);
    const corrupt = tempDir();
    writeFileSync(join(corrupt, 'tclocal.db'), Buffer.alloc(8192, 7));
    out = run(['start', '--port', '0', '--data-dir', corrupt]);
    assert.equal(out.status, 2, out.stderr);
    assert.match(out.stderr, /^tclocal: the database in --data-dir .* cannot be opened: .*SQLITE_NOTADB/);
    assert.doesNotMatch(out.stderr, /\n\s+at /, 'no stack trace');
  });

  it('coverage --write says what it wrote; ca prints the CA certificate path', () => {
    const cwd = tempDir();
    const out = run(['coverage', '--write'], {}, cwd);
    assert.equal(out.status, 0);
    assert.match(out.stderr, new RegExp(`^wrote ${join(cwd, 'COVERAGE.md').replace(/[.]/g, '\\.')}: \\d+ implemented actions`));
    assert.match(readFileSync(join(cwd, 'COVERAGE.md'), 'utf8'), /GAAP|gaap/);
    const dataDir = tempDir();
    const ca = run(['ca', '--data-dir', dataDir], { TCLOCAL_CA_DIR: '' });
    assert.equal(ca.status, 0, ca.stderr);
    assert.equal(ca.stdout.trim(), join(dataDir, 'tls', 'ca.pem'));
    assert.match(readFileSync(ca.stdout.trim(), 'utf8'), /^-----BEGIN CERTIFICATE-----/);
  });

  it('a ready server has not loaded the libraries only some requests need (the HTTP origin client, the XML parser)', async () => {
    // Node names each module it loads on stderr; read up to readiness.
    let loaded = '';
    const child = await startCli(tempDir(), await freePort(), { NODE_DEBUG: 'module' }, (c) => c.stderr!.on('data', (d: Buffer) => (loaded += d.toString())));
    try {
      await new Promise((r) => setTimeout(r, 200));
      assert.match(loaded, /node_modules\/better-sqlite3\//, 'the module log names what is loaded');
      for (const lib of ['undici', 'fast-xml-parser']) assert.doesNotMatch(loaded, new RegExp(`node_modules/${lib}/`), `${lib} loaded at start`);
    } finally {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
    }
  });

  it('a port in use is named at start-up', async () => {
    const port = await freePort();
    const blocker = createServer().listen(port, '127.0.0.1');
    await new Promise((r) => blocker.once('listening', r));
    try {
      const out = run(['start', '--port', String(port), '--in-memory']);
      assert.equal(out.status, 2);
      assert.match(out.stderr, /already in use/);
    } finally {
      blocker.close();
    }
  });

  it('a second tclocal whose DNS port is taken starts without DNS and says why', async () => {
    const taken = createSocket('udp4');
    await new Promise<void>((r) => taken.bind(0, '127.0.0.1', () => r()));
    const dnsPort = taken.address().port;
    const port = await freePort();
    const child = spawn(process.execPath, [CLI, 'start', '--port', String(port), '--dns-port', String(dnsPort), '--in-memory', '--log-level', 'warn', '--log-format', 'json'], {
      stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, TCLOCAL_CA_DIR: CA_DIR },
    });
    let out = '';
    child.stdout!.on('data', (c) => (out += c));
    child.stderr!.on('data', (c) => (out += c));
    try {
      let ready = false;
      for (const deadline = Date.now() + 15_000; !ready && Date.now() < deadline && child.exitCode === null; ) {
        ready = await fetch(`http://127.0.0.1:${port}/_tclocal/health`).then((r) => r.ok, () => false);
        if (!ready) await new Promise((r) => setTimeout(r, 50));
      }
      assert.ok(ready, `the second tclocal did not start: ${out}`);
      const warning = out.split('\n').filter(Boolean).map((l) => JSON.parse(l)).find((l) => l.level === 40);
      assert.equal(warning?.msg, `DNS is off: 127.0.0.1:${dnsPort} is already in use (another tclocal?); choose another port with --dns-port / TCLOCAL_DNS_PORT (0 picks a free one), or turn DNS off with --dns off`);
      assert.doesNotMatch(out, /"level":50/, 'no error line before the warning');
    } finally {
      child.kill('SIGKILL');
      taken.close();
    }
  });

  it('acknowledged writes survive kill -9 under write load, and export/import moves them', async () => {
    const dataDir = tempDir();
    const port = await freePort();
    let child = await startCli(dataDir, port);
    const client = cnClient('gaap', { port });
    const acknowledged: string[] = [];
    let stop = false;
    const writer = async (w: number) => {
      for (let i = 0; !stop; i++) {
        try {
          const res = await client.CreateCertificate({ CertificateType: 0, CertificateContent: basicAuthFile(w * 100000 + i), CertificateAlias: `w${w}-${i}` });
          acknowledged.push(res.CertificateId);
        } catch {
          return; // the server died mid-request: that write was never acknowledged
        }
      }
    };
    const writers = Array.from({ length: 8 }, (_, w) => writer(w));
    // Kill in the middle of the load: once enough writes were acknowledged (a slow machine takes longer).
    const until = Date.now() + 15_000;
    while (acknowledged.length < 60 && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
    await new Promise((r) => setTimeout(r, 100));
    // Waited for from before the kill: the writers may take longer to give up than the child takes to exit.
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGKILL');
    stop = true;
    await Promise.all(writers);
    await exited;
    assert.ok(acknowledged.length > 50, `only ${acknowledged.length} writes before the kill`);

    child = await startCli(dataDir, port);
    try {
      const seen = new Set<string>();
      for (let offset = 0; ; offset += 100) {
        const page = await client.DescribeCertificates({ Offset: offset, Limit: 100 });
        for (const c of page.CertificateSet) seen.add(c.CertificateId);
        if (page.CertificateSet.length < 100) break;
      }
      const lost = acknowledged.filter((id) => !seen.has(id));
      assert.deepEqual(lost, [], `${lost.length} of ${acknowledged.length} acknowledged writes lost`);
    } finally {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
    }

    // export → import into a fresh data directory → same state.
    const exportFile = join(tempDir(), 'state.json');
    const exported = run(['export', '--data-dir', dataDir, '--port', String(port), '--out', exportFile]);
    assert.equal(exported.status, 0, exported.stderr);
    assert.match(exported.stderr, /exported in the data directory/);
    const dump = JSON.parse(readFileSync(exportFile, 'utf8'));
    assert.equal(dump.format, 'tclocal-state');
    const otherDir = tempDir();
    const imported = run(['import', exportFile, '--data-dir', otherDir, '--port', String(port)]);
    assert.equal(imported.status, 0, imported.stderr);
    const again = JSON.parse(run(['export', '--data-dir', otherDir, '--port', String(port)]).stdout);
    assert.deepEqual(again.tables, dump.tables);
    assert.ok(dump.tables.resources.length >= acknowledged.length);

    const reset = run(['reset', '--data-dir', otherDir, '--port', String(port)]);
    assert.equal(reset.status, 0);
    assert.equal(JSON.parse(run(['export', '--data-dir', otherDir, '--port', String(port)]).stdout).tables.resources.length, 0);
    assert.equal(run(['import', '/no/such/export.json', '--data-dir', otherDir, '--port', String(port)]).status, 2);
  });

  it('export, import and reset talk to a running in-memory server, with its admin token', async () => {
    const port = await freePort();
    const child = spawn(process.execPath, [CLI, 'start', '--port', String(port), '--dns-port', '0', '--in-memory', '--auth', 'strict', '--log-level', 'warn'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr!.on('data', (c) => (stderr += c));
    try {
      const deadline = Date.now() + 10_000;
      while (!/admin endpoints require the token (\S+)/.test(stderr) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 25));
      const token = /admin endpoints require the token (\S+)/.exec(stderr)?.[1];
      assert.ok(token, `no token printed: ${stderr}`);
      await cnClient('gaap', { port }).CreateCertificate({ CertificateType: 0, CertificateContent: basicAuthFile(7) });

      const runAsync = (args: string[], env: Record<string, string> = {}) =>
        new Promise<{ status: number | null; stdout: string; stderr: string }>((res) => {
          const c = spawn(process.execPath, [CLI, ...args, '--port', String(port)], { env: { ...process.env, ...env } });
          let out = '';
          let err = '';
          c.stdout.on('data', (d) => (out += d));
          c.stderr.on('data', (d) => (err += d));
          c.on('exit', (status) => res({ status, stdout: out, stderr: err }));
        });
      const refused = await runAsync(['export']);
      assert.equal(refused.status, 2);
      assert.match(refused.stderr, /TCLOCAL_ADMIN_TOKEN/);

      const exported = await runAsync(['export'], { TCLOCAL_ADMIN_TOKEN: token });
      assert.equal(exported.status, 0, exported.stderr);
      assert.match(exported.stderr, /exported on the running server/);
      const dump = JSON.parse(exported.stdout);
      assert.equal(dump.tables.resources.length, 1);

      const reset = await runAsync(['reset'], { TCLOCAL_ADMIN_TOKEN: token });
      assert.equal(reset.status, 0, reset.stderr);
      assert.match(reset.stderr, /state reset on the running server/);
      assert.equal((await cnClient('gaap', { port }).DescribeCertificates({})).TotalCount, 0);

      const file = join(tempDir(), 'state.json');
      require('node:fs').writeFileSync(file, exported.stdout);
      const imported = await runAsync(['import', file], { TCLOCAL_ADMIN_TOKEN: token });
      assert.equal(imported.status, 0, imported.stderr);
      assert.equal((await cnClient('gaap', { port }).DescribeCertificates({})).TotalCount, 1);
    } finally {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
    }
  });

  it('a durable server keeps its generated token in the data directory, where the CLI finds it', async () => {
    const dataDir = tempDir();
    const port = await freePort();
    const child = spawn(process.execPath, [CLI, 'start', '--port', String(port), '--data-dir', dataDir, '--admin-token-required', 'always', '--log-level', 'warn'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr!.on('data', (c) => (stderr += c));
    try {
      const deadline = Date.now() + 10_000;
      while (!/admin endpoints require the token/.test(stderr) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 25));
      const token = /admin endpoints require the token (\S+)/.exec(stderr)?.[1];
      assert.ok(token, stderr);
      assert.equal(readFileSync(join(dataDir, 'admin-token'), 'utf8').trim(), token);
      assert.equal((statSync(join(dataDir, 'admin-token')).mode & 0o077), 0, 'only its owner may read the token file');
      assert.equal((await fetch(`http://127.0.0.1:${port}/_tclocal/state`)).status, 401);
      const out = await new Promise<{ status: number | null; stdout: string; stderr: string }>((res) => {
        const c = spawn(process.execPath, [CLI, 'export', '--data-dir', dataDir, '--port', String(port)], { env: { ...process.env, TCLOCAL_ADMIN_TOKEN: '' } });
        let o = '';
        let e = '';
        c.stdout.on('data', (d) => (o += d));
        c.stderr.on('data', (d) => (e += d));
        c.on('exit', (status) => res({ status, stdout: o, stderr: e }));
      });
      assert.equal(out.status, 0, out.stderr);
      assert.match(out.stderr, /on the running server/);
      assert.equal(JSON.parse(out.stdout).format, 'tclocal-state');
    } finally {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
    }
  });
});
