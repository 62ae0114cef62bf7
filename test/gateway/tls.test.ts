/**
 * The TLS endpoint: each official SDK, left at its default https://, reaches
 * tclocal when its process trusts the local CA (NODE_EXTRA_CA_CERTS), as a
 * user would run it. Plain HTTP and the CONNECT tunnel keep working on the
 * same port.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { RunningServer } from '../../src/server';
import { DEFAULT_ACCOUNT, startTclocal } from '../helpers';

/** Runs a script in a fresh Node process (the SDKs as users run them), resolving with its stdout. */
function runNode(script: string, env: Record<string, string>): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['-e', script], { cwd: join(__dirname, '..', '..', '..'), env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (c) => (out += c));
    child.stderr.on('data', (c) => (err += c));
    child.on('close', (code) => (code === 0 ? resolve(out.trim()) : reject(new Error(`exit ${code}: ${err}${out}`))));
  });
}

const credential = `{ secretId: '${DEFAULT_ACCOUNT.secretId}', secretKey: '${DEFAULT_ACCOUNT.secretKey}' }`;

describe('HTTPS on the same port', () => {
  let server: RunningServer;
  let caDir: string;
  let trust: Record<string, string>;

  before(async () => {
    caDir = mkdtempSync(join(tmpdir(), 'tclocal-ca-'));
    server = await startTclocal({ caDir, rateLimits: false });
    assert.equal(server.caPath, join(caDir, 'tls', 'ca.pem'));
    trust = { NODE_EXTRA_CA_CERTS: server.caPath! };
  });
  after(async () => {
    await server.stop();
    rmSync(caDir, { recursive: true, force: true });
  });

  it('tencentcloud-sdk-nodejs with its default protocol', async () => {
    const out = await runNode(`
      const { gaap } = require('tencentcloud-sdk-nodejs/tencentcloud/services/gaap');
      const client = new gaap.v20180529.Client({ credential: ${credential}, region: 'ap-guangzhou', profile: { httpProfile: { endpoint: 'localhost:${server.port}' } } });
      client.DescribeDestRegions({}).then((r) => console.log(r.TotalCount));`, trust);
    assert.ok(Number(out) > 0, out);
  });

  it('tencentcloud-sdk-nodejs-intl-en with its default protocol', async () => {
    const out = await runNode(`
      const { gaap } = require('tencentcloud-sdk-nodejs-intl-en');
      const ClientProfile = require('tencentcloud-sdk-nodejs-intl-en/tencentcloud/common/profile/client_profile');
      const HttpProfile = require('tencentcloud-sdk-nodejs-intl-en/tencentcloud/common/profile/http_profile');
      const Credential = require('tencentcloud-sdk-nodejs-intl-en/tencentcloud/common/credential');
      const http = new HttpProfile();
      http.endpoint = '127.0.0.1:${server.port}';
      const client = new gaap.v20180529.Client(new Credential('${DEFAULT_ACCOUNT.secretId}', '${DEFAULT_ACCOUNT.secretKey}'), '', new ClientProfile('HmacSHA256', http));
      client.DescribeDestRegions({}, (err, r) => { if (err) { console.error(err); process.exit(1); } console.log(r.TotalCount); });`, trust);
    assert.ok(Number(out) > 0, out);
  });

  it('cos-nodejs-sdk-v5 with its default protocol, to the real bucket host', async () => {
    const out = await runNode(`
      const COS = require('cos-nodejs-sdk-v5');
      const cos = new COS({ SecretId: '${DEFAULT_ACCOUNT.secretId}', SecretKey: '${DEFAULT_ACCOUNT.secretKey}', Ip: '127.0.0.1:${server.port}' });
      const host = 'examplebucket-${DEFAULT_ACCOUNT.appId}.ci.ap-beijing.myqcloud.com';
      cos.request({ Bucket: 'examplebucket-${DEFAULT_ACCOUNT.appId}', Region: 'ap-beijing', Method: 'GET', Url: 'https://' + host + '/video/auditing/nothere', Key: '/video/auditing/nothere' },
        (err, data) => console.log(JSON.stringify({ status: err ? err.statusCode : data.statusCode, code: err && err.code })));`, trust);
    const res = JSON.parse(out);
    // An answer from the CI protocol (not a TLS failure): the job does not exist.
    assert.ok(typeof res.status === 'number' && res.status >= 200, out);
    assert.notEqual(res.code, 'DEPTH_ZERO_SELF_SIGNED_CERT');
  });

  it('through the CONNECT tunnel with the real host name, TLS inside', async () => {
    const out = await runNode(`
      const { gaap } = require('tencentcloud-sdk-nodejs/tencentcloud/services/gaap');
      const client = new gaap.v20180529.Client({ credential: ${credential}, region: 'ap-guangzhou', profile: { httpProfile: { endpoint: 'gaap.tencentcloudapi.com', proxy: 'http://127.0.0.1:${server.port}' } } });
      client.DescribeAccessRegions({}).then((r) => console.log(r.TotalCount));`, trust);
    assert.ok(Number(out) > 0, out);
  });

  it('plain HTTP still answers on the same port', async () => {
    const res = await fetch(`http://127.0.0.1:${server.port}/?Action=DescribeDestRegions&Version=2018-05-29`);
    assert.ok(((await res.json()) as any).Response.TotalCount > 0);
  });

  it('the server certificate names the hosts tclocal routes, signed by the CA', async () => {
    const peer = await new Promise<X509Certificate>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port: server.port, path: '/_tclocal/health', ca: readFileSync(server.caPath!), servername: 'gaap.tencentcloudapi.com' }, (res) => {
        resolve(new X509Certificate((res.socket as any).getPeerCertificate(true).raw));
        res.resume();
      });
      req.on('error', reject);
      req.end();
    });
    const names = peer.subjectAltName ?? '';
    for (const n of ['DNS:localhost', 'DNS:*.tencentcloudapi.com', 'DNS:*.ap-guangzhou.tencentcloudapi.com', 'DNS:*.intl.tencentcloudapi.com', 'DNS:*.myqcloud.com', 'DNS:*.ci.ap-beijing.myqcloud.com', 'IP Address:127.0.0.1', 'IP Address:0:0:0:0:0:0:0:1']) {
      assert.ok(names.split(', ').includes(n), `${n} missing from ${names}`);
    }
    assert.ok(peer.verify(new X509Certificate(readFileSync(server.caPath!)).publicKey));
    assert.ok(peer.checkHost('gaap.ap-shanghai.tencentcloudapi.com'));
    assert.ok(peer.checkHost('examplebucket-1250000000.ci.ap-guangzhou.myqcloud.com'));
  });

  it('a second server on the same directory reuses the CA', async () => {
    const before = readFileSync(server.caPath!, 'utf8');
    const again = await startTclocal({ caDir, rateLimits: false });
    try {
      assert.equal(readFileSync(again.caPath!, 'utf8'), before);
    } finally {
      await again.stop();
    }
  });
});
