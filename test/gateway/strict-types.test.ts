/**
 * Strict where the cloud is strict: types, numbers, encodings and control
 * characters, errors naming the parameter the caller sent, imports checked
 * record by record, and no library's wording in an error.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { RunningServer } from '../../src/server';
import { cnClient, errorCode, intlClient, replay, startTclocal } from '../helpers';

/** An unsigned JSON call (lenient mode serves it as the default account) with the body given as raw bytes. */
async function rawJson(server: RunningServer, action: string, body: string | Buffer): Promise<{ Code?: string; Message?: string }> {
  const r = await replay(server, {
    method: 'POST', url: '/',
    headers: { host: 'gaap.tencentcloudapi.com', 'content-type': 'application/json', 'x-tc-action': action, 'x-tc-version': '2018-05-29' },
    body: typeof body === 'string' ? Buffer.from(body) : body,
  });
  return r.json.Response.Error ?? {};
}

async function rawGet(server: RunningServer, query: string): Promise<{ Code?: string; Message?: string }> {
  const r = await replay(server, { method: 'GET', url: `/?${query}`, headers: { host: 'gaap.tencentcloudapi.com' }, body: '' });
  return r.json.Response.Error ?? {};
}

describe('strict parameter types', () => {
  let server: RunningServer;
  before(async () => {
    server = await startTclocal({ rateLimits: false });
  });
  after(() => server.stop());

  it('booleans and null are not numbers, numbers are not booleans', async () => {
    for (const [body, name] of [['{"Limit":true}', 'Limit'], ['{"Limit":null}', 'Limit'], ['{"Offset":false}', 'Offset']] as const) {
      const e = await rawJson(server, 'DescribeProxies', body);
      assert.equal(e.Code, 'InvalidParameter', body);
      assert.match(e.Message!, new RegExp(`\`${name}\``), body);
    }
    const flag = await rawJson(server, 'CreateDomain', '{"ListenerId":"listener-abcd1234","Domain":"www.example.com","IsDefaultServer":1}');
    assert.equal(flag.Code, 'InvalidParameter');
    assert.match(flag.Message!, /`IsDefaultServer`.*Boolean/);
    // Strings of numbers and booleans, as forms send them, stay accepted.
    assert.equal((await rawJson(server, 'DescribeProxies', '{"Limit":"5"}')).Code, undefined);
  });

  it('non-finite and inexact numbers are refused', async () => {
    for (const body of ['{"Limit":1e309}', '{"Limit":-1e309}', '{"Limit":"1e309"}', '{"Limit":"Infinity"}', '{"Limit":9007199254740993}']) {
      const e = await rawJson(server, 'DescribeProxies', body);
      assert.equal(e.Code, 'InvalidParameter', body);
      assert.match(e.Message!, /`Limit`/, body);
    }
    const form = await rawGet(server, 'Action=DescribeProxies&Version=2018-05-29&Limit=1e400');
    assert.equal(form.Code, 'InvalidParameter');
  });

  it('invalid UTF-8 and malformed percent-encoding are refused naming the parameter', async () => {
    const bytes = Buffer.concat([Buffer.from('{"ProxyIds":["link-'), Buffer.from([0xff, 0xfe]), Buffer.from('"]}')]);
    const utf8 = await rawJson(server, 'DescribeProxies', bytes);
    assert.equal(utf8.Code, 'InvalidParameter');
    assert.match(utf8.Message!, /not valid UTF-8/);
    const pct = await rawGet(server, 'Action=DescribeProxies&Version=2018-05-29&InstanceIds.0=%zz');
    assert.equal(pct.Code, 'InvalidParameter');
    assert.match(pct.Message!, /`InstanceIds\.0`.*percent-encoded/);
    const badEscape = await rawGet(server, 'Action=DescribeProxies&Version=2018-05-29&InstanceIds.0=%ff');
    assert.equal(badEscape.Code, 'InvalidParameter');
    const form = await replay(server, {
      method: 'POST', url: '/', headers: { host: 'gaap.tencentcloudapi.com', 'content-type': 'application/x-www-form-urlencoded' },
      body: Buffer.concat([Buffer.from('Action=DescribeProxies&Version=2018-05-29&InstanceIds.0=a'), Buffer.from([0xc3])]),
    });
    assert.equal(form.json.Response.Error.Code, 'InvalidParameter');
    // Well-formed escapes still decode.
    assert.equal((await rawGet(server, 'Action=DescribeProxies&Version=2018-05-29&InstanceIds.0=%6c%69nk-abcd1234+x')).Code, undefined);
  });

  it('control characters are refused in names, and NUL anywhere', async () => {
    const gaap = cnClient('gaap', server);
    for (const alias of ['a\u0000b', 'line\nbreak', 'tab\there', 'bell\u0007']) {
      assert.equal(await errorCode(gaap.CreateCertificate({ CertificateType: 0, CertificateContent: 'user:$apr1$abcdefgh$0123456789abcdefghijkl', CertificateAlias: alias })), 'InvalidParameterValue', JSON.stringify(alias));
    }
    assert.equal(await errorCode(gaap.CreateProxyGroup({ ProjectId: 0, GroupName: 'g\r\n1', RealServerRegion: 'SouthChina' })), 'InvalidParameterValue');
    assert.equal(await errorCode(gaap.CreateCertificate({ CertificateType: 0, CertificateContent: 'user:$apr1$abcdefgh$0123\u0000456789abcdefghijkl' })), 'InvalidParameterValue');
  });

  it('errors name the parameter the caller sent (InstanceIds, not ProxyIds)', async () => {
    const ids = Array.from({ length: 101 }, (_, i) => `link-${String(i).padStart(8, '0')}`);
    const e = await rawJson(server, 'DescribeProxies', JSON.stringify({ InstanceIds: ids }));
    assert.equal(e.Code, 'InvalidParameterValue');
    assert.match(e.Message!, /`InstanceIds`/);
    assert.doesNotMatch(e.Message!, /ProxyIds/);
    const both = await rawJson(server, 'DescribeProxies', JSON.stringify({ InstanceIds: ['link-00000001'], Filters: [{ Name: 'ProxyId', Values: ['x'] }] }));
    assert.match(both.Message!, /`InstanceIds`/);
    assert.doesNotMatch(both.Message!, /ProxyIds/);
    const intl = intlClient('gaap', server);
    await assert.rejects(intl.DescribeProxies({ InstanceIds: ids }), (err: any) => /InstanceIds/.test(err.message) && !/ProxyIds/.test(err.message));
  });

  it('an import is checked record by record, and the error says where', async () => {
    const state = (await (await fetch(`${server.url}/_tclocal/state`)).json()) as any;
    const good = { account: '100000000001', kind: 'gaap.proxy', id: 'link-00000001', parent: null, status: 'RUNNING', created_at: Date.now(), data: '{}' };
    const cases: Array<[unknown, RegExp]> = [
      [[good, { ...good, id: 'link-00000002', data: 'null' }], /tables\.resources\[1\]\.data/],
      [[{ ...good, data: null }], /tables\.resources\[0\]\.data/],
      [[null], /tables\.resources\[0\] must be an object/],
      [[{ ...good, created_at: 'yesterday' }], /tables\.resources\[0\]\.created_at must be an integer/],
      [[good, good], /tables\.resources\[1\] repeats/],
      [[{ ...good, extra: 1 }], /tables\.resources\[0\] has an unknown field "extra"/],
    ];
    for (const [resources, message] of cases) {
      const res = await fetch(`${server.url}/_tclocal/state`, {
        method: 'POST', headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ ...state, tables: { ...state.tables, resources } }),
      });
      assert.equal(res.status, 400);
      const { error } = (await res.json()) as { error: string };
      assert.match(error, message);
      assert.doesNotMatch(error, /SQLITE|constraint/i);
    }
    assert.equal((await cnClient('gaap', server).DescribeProxies({})).TotalCount, 0, 'nothing of a refused import is stored');
  });
});
