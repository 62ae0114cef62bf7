/**
 * The outbound-call guard: callbacks never reach tclocal itself nor, by
 * default, link-local and metadata addresses; names are checked by what
 * they resolve to; every attempt is logged at info with its result.
 */
import assert from 'node:assert/strict';
import { lookup } from 'node:dns';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import pino from 'pino';
import { OutboundGuard, registerOwnPort, type Resolver } from '../../src/core/outbound';
import { pathReceiver } from '../support/receiver';

/** Names of our own, as a DNS server might answer them. */
const NAMES: Record<string, string[]> = {
  'metadata.test': ['169.254.169.254'],
  'mixed.test': ['127.0.0.1', '169.254.169.254'],
  'aliyun-meta.test': ['100.100.100.200'],
  'v6-link.test': ['fe80::1'],
  'mapped.test': ['::ffff:169.254.169.254'],
};
const testResolver: Resolver = (name, _o, cb) => {
  const list = NAMES[name];
  if (!list) return lookup(name, { all: true }, cb);
  cb(null, list.map((address) => ({ address, family: address.includes(':') ? 6 : 4 })));
};

describe('outbound guard', () => {
  let own: () => void;
  let ownPort: number;
  let rx: Awaited<ReturnType<typeof pathReceiver>>;
  before(async () => {
    rx = await pathReceiver();
    const placeholder = createServer();
    await new Promise<void>((r) => placeholder.listen(0, '127.0.0.1', r));
    ownPort = (placeholder.address() as AddressInfo).port;
    placeholder.close();
    own = registerOwnPort(ownPort);
  });
  after(() => {
    own();
    rx.server.close();
  });

  it('refuses tclocal itself, unspecified, multicast, link-local and metadata addresses, literal or resolved', async () => {
    const lines: any[] = [];
    const log = pino({ level: 'info' }, new Writable({ write: (c, _e, cb) => (lines.push(JSON.parse(String(c))), cb()) }));
    const guard = new OutboundGuard({ allowLinkLocal: false, log, resolve: testResolver });
    const refused = [
      `http://127.0.0.1:${ownPort}/_tclocal/reset`,
      `http://127.9.9.9:${ownPort}/`,
      `http://[::1]:${ownPort}/`,
      `http://[::ffff:127.0.0.1]:${ownPort}/`,
      `http://localhost:${ownPort}/_tclocal/reset`,
      'http://0.0.0.0:8080/',
      'http://[::]:8080/',
      'http://224.0.0.1/',
      'http://169.254.169.254/latest/meta-data/',
      'http://[fe80::1]/',
      'http://100.100.100.200/latest/meta-data',
      'http://[fd00:ec2::254]/',
      'http://[::ffff:169.254.169.254]/',
      'http://[::ffff:a9fe:a9fe]/',
      'http://metadata.test/',
      'http://mixed.test/',
      'http://aliyun-meta.test/',
      'http://v6-link.test/',
      'http://mapped.test/',
      'ftp://127.0.0.1/',
    ];
    for (const url of refused) {
      const r = await guard.post(url, '{}', { 'Content-Type': 'application/json' }, 2000, { sender: 'test' });
      assert.ok(r.refused, `${url} should be refused: ${JSON.stringify(r)}`);
      assert.equal(r.ok, false);
    }
    const line = lines.find((l) => l.url === 'http://mixed.test/');
    assert.equal(line.level, 30);
    assert.equal(line.msg, 'outbound call');
    assert.match(line.refused, /169\.254\.169\.254/);
    assert.equal(rx.hits.length, 0);

    // Other loopback ports stay allowed (test receivers), and the attempt is logged with its status.
    const ok = await guard.post(`http://127.0.0.1:${rx.port}/hook`, '{}', {}, 2000, { sender: 'test', jobId: 'j1' });
    assert.deepEqual([ok.ok, ok.status], [true, 200]);
    const viaName = await guard.post(`http://localhost:${rx.port}/by-name`, '{}', {}, 2000, { sender: 'test' });
    assert.equal(viaName.ok, true, JSON.stringify(viaName));
    assert.deepEqual(rx.hits, ['/hook', '/by-name']);
    const delivered = lines.find((l) => l.jobId === 'j1');
    assert.deepEqual([delivered.level, delivered.ok, delivered.status, delivered.sender], [30, true, 200, 'test']);
  });

  it('allows link-local addresses only when the setting says so', async () => {
    const guard = new OutboundGuard({ allowLinkLocal: true, resolve: testResolver });
    assert.equal(guard.refusal('169.254.169.254', 80), undefined);
    assert.equal(guard.refusal('fe80::1', 80), undefined);
    assert.ok(guard.refusal('127.0.0.1', ownPort), 'tclocal itself stays refused');
    assert.ok(guard.refusal('0.0.0.0', 80));
  });
});
