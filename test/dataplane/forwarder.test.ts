import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { describe, it } from 'node:test';
import { bindTcp } from '../../src/dataplane/bound-socket';
import { Forwarder, type BindingSpec, type FromForwarder } from '../../src/dataplane/forwarder';

/** A TCP listener with no origin: each connection accepted is reset, and counted. */
const spec: BindingSpec = {
  listener: {
    listenerId: 'lsr-turns', protocol: 'TCP', port: 0, proxyIds: ['link-turns'], groupId: null, serving: true, scheduler: 'rr', realServerType: 'IP', origins: [],
    health: { enabled: false, delayLoop: 5, connectTimeout: 2, healthyThreshold: 3, unhealthyThreshold: 3, type: 'CONNECT', checkPort: 0, send: '', expect: '' },
    failover: false, sessionPersist: 0, clientIpMethod: 0, security: null,
  },
  proxyAddress: '127.0.0.1',
  health: [],
  idleMs: 60_000,
};

/** 'REFUSED' when nothing listens; 'RESET' or 'CLOSED' when something accepted. */
const knock = (port: number): Promise<string> => new Promise((resolve) => {
  const s = connect({ host: '127.0.0.1', port });
  s.on('error', (err: NodeJS.ErrnoException) => resolve(err.code === 'ECONNREFUSED' ? 'REFUSED' : 'RESET'));
  s.on('close', () => resolve('CLOSED'));
});

describe('data plane: a forwarder holds a TCP binding, accepts on it when told, and stops when told', () => {
  it('bind without a socket holds; listen accepts; unlisten stops; a socket it will not use is let go', async (t) => {
    // Node 20 binds without listening (bound-socket.ts); a runtime that cannot would hand forwarders listening servers instead, and this test should say so.
    const bound = bindTcp('127.0.0.1', 0);
    assert.ok(bound, 'this runtime cannot bind a socket without listening');
    const sent: FromForwarder[] = [];
    const f = new Forwarder((msg) => void sent.push(msg));
    // A failed assertion must not leave the socket listening (the test process would not end).
    t.after(() => f.handle({ type: 'unbind', id: 1 }, undefined));
    const accepted = () => {
      f.report();
      return sent.flatMap((m) => (m.type === 'counters' ? m.deltas : [])).reduce((n, d) => n + d.accepted, 0);
    };

    f.handle({ type: 'bind', id: 1, spec }, undefined);
    assert.equal(sent.length, 0, 'no answer: it does not listen');
    assert.equal(await knock(bound.port), 'REFUSED');

    f.handle({ type: 'listen', id: 1 }, bound.handle);
    assert.deepEqual(sent.at(-1), { type: 'listening', id: 1 });
    assert.notEqual(await knock(bound.port), 'REFUSED');
    assert.equal(accepted(), 1);
    const report = sent.filter((m): m is Extract<FromForwarder, { type: 'counters' }> => m.type === 'counters').at(-1)!;
    assert.ok(report.busy >= 0 && report.busy <= 1, `busy is a share: ${report.busy}`);

    // A second socket for a binding it already accepts on, or for one it does not know, is closed at once.
    let closed = 0;
    const spare = { close: () => void closed++ };
    f.handle({ type: 'listen', id: 1 }, spare);
    f.handle({ type: 'listen', id: 99 }, spare);
    assert.equal(closed, 2);

    // Here the forwarder held the only handle of the socket: closing it frees the port.
    f.handle({ type: 'unlisten', id: 1 }, undefined);
    await new Promise((r) => setImmediate(r));
    assert.equal(await knock(bound.port), 'REFUSED');
  });
});
