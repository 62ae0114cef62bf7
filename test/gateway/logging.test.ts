/** One structured log line per request: RequestId, service, action, account, latency, error code. */
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import pino from 'pino';
import { loadConfig } from '../../src/config';
import { startServer } from '../../src/server';
import { ACCOUNT_A, cnClient, DEFAULT_ACCOUNT, errorCode } from '../helpers';

describe('request log', () => {
  it('writes one JSON line per request with its RequestId, service, action, account, latency and error code', async () => {
    const lines: any[] = [];
    const sink = new Writable({
      write(chunk, _enc, done) {
        for (const l of String(chunk).split('\n').filter(Boolean)) lines.push(JSON.parse(l));
        done();
      },
    });
    const config = loadConfig({}, {}, { port: 0, inMemory: true, accounts: [DEFAULT_ACCOUNT, ACCOUNT_A], logLevel: 'info' });
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
      assert.equal(second.account, DEFAULT_ACCOUNT.uin);
    } finally {
      await server.stop();
    }
  });
});
