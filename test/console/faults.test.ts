/**
 * Fault injection, /_tclocal/faults: documented codes answered to the
 * official SDKs for the next N calls or a share of them, latency added,
 * bad rules refused with a message, admin endpoints never touched.
 */
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import { FaultRules } from '../../src/console/faults';
import type { RunningServer } from '../../src/server';
import { ciClient } from '../../testkit/cos-client';
import { ACCOUNT_A, cnClient, DEFAULT_ACCOUNT, errorCode, startTclocal } from '../helpers';
import { prng } from '../../testkit/prng';
import { admin } from './admin-client';

describe('fault injection', () => {
  let server: RunningServer;
  before(async () => {
    server = await startTclocal();
  });
  afterEach(async () => {
    await admin(server, 'DELETE', '/_tclocal/faults', {});
  });
  after(() => server.stop());

  it('answers a documented code for the next N calls of an action, then lets calls through', async () => {
    const created = await admin(server, 'POST', '/_tclocal/faults', { service: 'gaap', action: 'DescribeProxies', error: 'FailedOperation.UserNotConfirmProtocol', times: 2 });
    assert.equal(created.status, 201);
    const [rule] = created.json.faults;
    assert.match(rule.id, /^fault-\d+$/);
    const gaap = cnClient('gaap', server);
    const err = await gaap.DescribeProxies({}).catch((e: any) => e);
    assert.equal(err.code, 'FailedOperation.UserNotConfirmProtocol');
    assert.match(err.message, new RegExp(rule.id));
    assert.equal(await errorCode(gaap.DescribeProxies({})), 'FailedOperation.UserNotConfirmProtocol');
    assert.equal((await gaap.DescribeProxies({})).TotalCount, 0);
    await gaap.DescribeAccessRegions({}); // another action: untouched throughout
    const listed = (await admin(server, 'GET', '/_tclocal/faults')).json.faults;
    assert.equal(listed[0].applied, 2);
    // Visible in the request log.
    const logged = (await admin(server, 'GET', '/_tclocal/requests?action=DescribeProxies&limit=3')).json.requests;
    assert.deepEqual(logged.map((c: any) => [c.code, c.fault]), [[null, null], ['FailedOperation.UserNotConfirmProtocol', rule.id], ['FailedOperation.UserNotConfirmProtocol', rule.id]]);
    assert.equal((await admin(server, 'GET', '/_tclocal/requests?faulted=true&limit=5')).json.requests.length, 2);
  });

  it('scopes a rule to one account, and takes a message', async () => {
    await admin(server, 'POST', '/_tclocal/faults', { account: ACCOUNT_A.uin, error: { code: 'InternalError', message: 'the region is on fire' } });
    const err = await cnClient('ssl', server, { account: ACCOUNT_A }).DescribeCertificates({}).catch((e: any) => e);
    assert.equal(err.code, 'InternalError');
    assert.equal(err.message, 'the region is on fire');
    await cnClient('ssl', server).DescribeCertificates({});
    await cnClient('gaap', server, { account: DEFAULT_ACCOUNT }).DescribeAccessRegions({});
  });

  it('adds latency', async () => {
    await admin(server, 'POST', '/_tclocal/faults', { service: 'gaap', action: 'DescribeDestRegions', latencyMs: 400 });
    const gaap = cnClient('gaap', server);
    const started = Date.now();
    await gaap.DescribeDestRegions({});
    assert.ok(Date.now() - started >= 390, `took ${Date.now() - started} ms`);
    const [call] = (await admin(server, 'GET', '/_tclocal/requests?action=DescribeDestRegions&limit=1')).json.requests;
    assert.equal(call.code, null);
    assert.match(call.fault, /^fault-/);
    assert.ok(call.ms >= 390);
  });

  it('answers Cloud Infinite calls with a COS error code and its HTTP status', async () => {
    const added = await admin(server, 'POST', '/_tclocal/faults', { service: 'ci', action: 'GetLiveAuditing', error: 'AccessDenied', times: 1 });
    assert.equal(added.status, 201, JSON.stringify(added.json));
    const ci = ciClient({ port: server.port, account: DEFAULT_ACCOUNT });
    const err = await ci.query('av00000000000000000000000000000000').catch((e: any) => e);
    assert.equal(err.code, 'AccessDenied');
    assert.equal(err.statusCode, 403);
    const again = await ci.query('av00000000000000000000000000000000').catch((e: any) => e);
    assert.equal(again.code, 'ResourceNotFound');
  });

  it('never applies to admin endpoints', async () => {
    await admin(server, 'POST', '/_tclocal/faults', { account: DEFAULT_ACCOUNT.uin, error: 'InternalError' });
    assert.equal(await errorCode(cnClient('gaap', server).DescribeAccessRegions({})), 'InternalError');
    assert.equal((await admin(server, 'GET', '/_tclocal/health')).status, 200);
    assert.equal((await admin(server, 'GET', '/_tclocal/state')).status, 200);
    assert.equal((await admin(server, 'POST', '/_tclocal/transitions/advance', {})).status, 200);
    // Cleared: calls succeed again.
    assert.deepEqual((await admin(server, 'DELETE', '/_tclocal/faults', {})).json, { cleared: 1 });
    await cnClient('gaap', server).DescribeAccessRegions({});
  });

  it('removes one rule by id', async () => {
    const [a, b] = (await admin(server, 'POST', '/_tclocal/faults', [
      { service: 'gaap', action: 'DescribeProxies', error: 'AuthFailure' },
      { service: 'gaap', action: 'DescribeDestRegions', latencyMs: 1 },
    ])).json.faults;
    assert.equal((await admin(server, 'DELETE', `/_tclocal/faults/${a.id}`, {})).status, 200);
    assert.deepEqual((await admin(server, 'GET', '/_tclocal/faults')).json.faults.map((r: any) => r.id), [b.id]);
    assert.equal((await admin(server, 'DELETE', `/_tclocal/faults/${a.id}`, {})).status, 404);
    await cnClient('gaap', server).DescribeProxies({});
  });

  it('stores data-plane connection rules for the data plane to apply', async () => {
    const { status, json } = await admin(server, 'POST', '/_tclocal/faults', { kind: 'connection', listenerId: 'listener-abc', effect: 'delay', latencyMs: 200, times: 3 });
    assert.equal(status, 201);
    assert.equal(json.faults[0].kind, 'connection');
    assert.equal(json.faults[0].effect, 'delay');
  });

  it('refuses bad rules with a message naming what is wrong, and adds none of a batch', async () => {
    const cases: Array<[unknown, RegExp]> = [
      [{ service: 'gaap', action: 'DescribeProxies', error: 'FailedOperation.ProxySellOut' }, /"FailedOperation.ProxySellOut" is not documented for gaap DescribeProxies/],
      [{ service: 'gaap', error: 'FailedOperation.ProxySellOut' }, /not a common error code of gaap; name the action/],
      [{ service: 'gaap', action: 'DescribeProxy', error: 'InternalError' }, /"DescribeProxy" is not an action of gaap/],
      [{ service: 'cvm', error: 'InternalError' }, /service "cvm" is not emulated/],
      [{ action: 'DescribeProxies', error: 'InternalError' }, /action needs the service/],
      [{ error: 'InternalError' }, /must name a service, an action or an account/],
      [{ account: DEFAULT_ACCOUNT.uin, error: 'ResourceUnavailable' }, /not a code every service answers/],
      [{ service: 'gaap' }, /must give an error code, a latencyMs, or both/],
      [{ service: 'gaap', latencyMs: -5 }, /latencyMs must be an integer/],
      [{ service: 'gaap', error: 'InternalError', times: 0 }, /times must be a positive integer/],
      [{ service: 'gaap', error: 'InternalError', share: 1.5 }, /share must be a number above 0 and at most 1/],
      [{ service: 'gaap', error: 'InternalError', code: 'x' }, /rule\.code is not a field of an? api fault rule/],
      [{ service: 'ci', action: 'GetLiveAuditing', error: 'FailedOperation' }, /"FailedOperation" is not a common error code of ci|not documented for ci/],
      [{ kind: 'connection', effect: 'explode', proxyId: 'link-1' }, /effect must be "refuse", "reset" or "delay"/],
      [{ kind: 'connection', effect: 'refuse' }, /must name a proxyId or a listenerId/],
      [{ kind: 'chaos' }, /kind must be "api" or "connection"/],
      ['{not json', /not valid JSON/],
      [[], /holds no rule/],
    ];
    for (const [rule, message] of cases) {
      const { status, json } = await admin(server, 'POST', '/_tclocal/faults', rule);
      assert.equal(status, 400, JSON.stringify(rule));
      assert.match(json.error, message);
    }
    const batch = await admin(server, 'POST', '/_tclocal/faults', [{ service: 'gaap', error: 'InternalError' }, { service: 'nope', error: 'InternalError' }]);
    assert.equal(batch.status, 400);
    assert.match(batch.json.error, /rules\[1\]\.service/);
    assert.deepEqual((await admin(server, 'GET', '/_tclocal/faults')).json.faults, []);
  });
});

describe('fault rules, share of calls', () => {
  it('touches about the given share of matching calls', () => {
    const rules = new FaultRules([{ service: 'gaap', protocol: 'api3', actions: { DescribeProxies: [] }, commonCodes: ['InternalError'] }], prng(7).next);
    rules.add({ service: 'gaap', error: 'InternalError', share: 0.25 });
    let hits = 0;
    for (let i = 0; i < 4000; i++) if (rules.decide({ protocol: 'api3', service: 'gaap', action: 'DescribeProxies', account: '1' })) hits++;
    assert.ok(hits > 850 && hits < 1150, `${hits} of 4000`);
    assert.equal(rules.list()[0].applied, hits);
  });
});
