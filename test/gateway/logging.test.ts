/** One structured log line per request: RequestId, service, action, account, latency, error code. */
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import pino from 'pino';
import { loadConfig } from '../../src/config';
import { startServer } from '../../src/server';
import { readableStream } from '../../src/core/log-format';
import { ACCOUNT_A, cnClient, DEFAULT_ACCOUNT, errorCode, TEST_CA_DIR } from '../helpers';

describe('request log', () => {
  it('writes one JSON line per request with its RequestId, service, action, account, latency and error code', async () => {
    const lines: any[] = [];
    const sink = new Writable({
      write(chunk, _enc, done) {
        for (const l of String(chunk).split('\n').filter(Boolean)) lines.push(JSON.parse(l));
        done();
      },
    });
    const config = loadConfig({}, {}, { port: 0, inMemory: true, caDir: TEST_CA_DIR, accounts: [DEFAULT_ACCOUNT, ACCOUNT_A], logLevel: 'info' });
    const server = await startServer(config, pino({ level: 'info' }, sink));
    try {
      const ok = await cnClient('gaap', server, { account: ACCOUNT_A }).DescribeDestRegions({});
      assert.equal(await errorCode(cnClient('gaap', server).DescribeAccessRegionsByDestRegion({})), 'MissingParameter');
      await new Promise((r) => setTimeout(r, 50));
      const requests = lines.filter((l) => l.msg === 'request');
      assert.equal(requests.length, 2);
      const [first, second] = requests;
      assert.equal(first.requestId, ok.RequestId);
      assert.equal(first.service, 'gaap');
      assert.equal(first.action, 'DescribeDestRegions');
      assert.equal(first.account, ACCOUNT_A.uin);
      assert.equal(typeof first.ms, 'number');
      assert.equal(first.code, undefined);
      assert.equal(second.code, 'MissingParameter');
      assert.match(second.message, /DestRegion/);
      assert.equal(first.params, undefined, 'parameters only at debug level');
      assert.equal(second.account, DEFAULT_ACCOUNT.uin);
    } finally {
      await server.stop();
    }
  });

  it('writes one readable line per request for a terminal, with parameters (secrets masked) at debug level', async () => {
    let text = '';
    const sink = { write: (chunk: string) => void (text += chunk) };
    const config = loadConfig({}, {}, { port: 0, inMemory: true, caDir: TEST_CA_DIR, accounts: [DEFAULT_ACCOUNT, ACCOUNT_A], logLevel: 'debug', rateLimits: false });
    const server = await startServer(config, pino({ level: 'debug' }, readableStream(sink)));
    try {
      const gaap = cnClient('gaap', server, { account: ACCOUNT_A });
      await gaap.DescribeDestRegions({});
      assert.equal(await errorCode(gaap.CreateCertificate({ CertificateType: 9, CertificateContent: 'x', CertificateKey: 'very-secret-key' })), 'InvalidParameterValue');
      await new Promise((r) => setTimeout(r, 50));
      const lines = text.split('\n');
      const ok = lines.find((l) => l.includes('DescribeDestRegions'))!;
      assert.match(ok, /^\d\d:\d\d:\d\d\.\d{3} 100000000101 +gaap DescribeDestRegions +ok \(\d+\.\d ms\)$/);
      const failed = lines.find((l) => l.includes('CreateCertificate'))!;
      assert.match(failed, /gaap CreateCertificate +InvalidParameterValue: The value of parameter `CertificateType` is not valid.* \(\d+\.\d ms\)$/);
      const params = lines[lines.indexOf(failed) + 1];
      assert.match(params, /^ +params \{"CertificateType":9,"CertificateContent":"x","CertificateKey":"\*\*\*"\}$/);
      assert.doesNotMatch(text, /very-secret-key/);
      assert.doesNotMatch(text, /^\{/m, 'no JSON lines');
    } finally {
      await server.stop();
    }
  });

  it('masks secrets a caller sent that an error message names: a SecretId keeps 8 characters, a SecretKey in its place 4', async () => {
    let text = '';
    const sink = { write: (chunk: string) => void (text += chunk) };
    const config = loadConfig({}, {}, { port: 0, inMemory: true, caDir: TEST_CA_DIR, accounts: [DEFAULT_ACCOUNT], auth: 'strict', logLevel: 'info', rateLimits: false });
    const server = await startServer(config, pino({ level: 'info' }, readableStream(sink)));
    const unknownId = 'AKIDunknownCaller0123456789abcdefXYZ';
    const pastedKey = 'Zk3secretKeyPastedAsId0123456789ab';
    try {
      for (const secretId of [unknownId, pastedKey]) {
        const gaap = cnClient('gaap', server, { account: { ...DEFAULT_ACCOUNT, secretId } });
        assert.equal(await errorCode(gaap.DescribeDestRegions({})), 'AuthFailure.SecretIdNotFound');
      }
      await new Promise((r) => setTimeout(r, 50));
      const failed = text.split('\n').filter((l) => l.includes('AuthFailure.SecretIdNotFound'));
      assert.equal(failed.length, 2, text);
      assert.match(failed[0], /The SecretId `AKIDunkn…` does not exist/);
      assert.match(failed[1], /The SecretId `Zk3s…` does not exist/);
      assert.doesNotMatch(text, /AKIDunknownC|Zk3secret/);
    } finally {
      await server.stop();
    }
  });
});
