import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ForwardingProxy } from '../../src/services/gaap/forwarding';
import type { HttpListener } from '../../src/services/gaap/forwarding-http';
import { ReceivedHttpViews, SentHttpViews } from '../../src/dataplane/http-views';

const proxies = [{ proxyId: 'link-1' }] as unknown as ForwardingProxy[];
const view = (listenerId: string, port: number): HttpListener => ({
  listenerId, protocol: 'HTTP', port, proxyIds: ['link-1'], groupId: null, serving: true, mutualAuth: false, security: null, certificate: undefined, http3: false, domains: [],
});

describe('data plane: HTTP views sent to the forwarder processes', () => {
  it('sends only the listeners that changed, and a forwarder adds the changes up to the whole set', () => {
    const sent = new SentHttpViews();
    const got = new ReceivedHttpViews();
    const a = view('listener-a', 8001);
    const b = view('listener-b', 8002);
    const first = sent.change('acct', proxies, [a, b])!;
    assert.deepEqual(first.changed.map((v) => v.listenerId), ['listener-a', 'listener-b']);
    assert.deepEqual(got.apply('acct', first), [a, b]);

    // The same views again (a commit that changed nothing HTTP): nothing to send.
    assert.equal(sent.change('acct', proxies, [view('listener-a', 8001), view('listener-b', 8002)]), undefined);

    // One listener changes: only it goes out; the forwarder still applies both.
    const b2 = view('listener-b', 9002);
    const second = sent.change('acct', proxies, [a, b2])!;
    assert.deepEqual(second.changed, [b2]);
    assert.deepEqual(second.removed, []);
    assert.deepEqual(got.apply('acct', second), [a, b2]);

    // A listener goes: only its id goes out.
    const third = sent.change('acct', proxies, [b2])!;
    assert.deepEqual(third, { proxies, changed: [], removed: ['listener-a'] });
    assert.deepEqual(got.apply('acct', third), [b2]);

    // The proxies alone change (a cap): they go out with no listener.
    const capped = [{ proxyId: 'link-1', maxConnections: 5 }] as unknown as ForwardingProxy[];
    assert.deepEqual(sent.change('acct', capped, [b2]), { proxies: capped, changed: [], removed: [] });

    // The last listener goes: the account is forgotten on both sides.
    assert.deepEqual(sent.change('acct', capped, []), { proxies: capped, changed: [], removed: ['listener-b'] });
    assert.deepEqual(got.apply('acct', { proxies: capped, changed: [], removed: ['listener-b'] }), []);
    assert.equal(sent.change('acct', capped, []), undefined);
  });

  it('a forwarder started afresh gets every account\'s whole set at once', () => {
    const sent = new SentHttpViews();
    sent.change('one', proxies, [view('listener-a', 8001), view('listener-b', 8002)]);
    sent.change('one', proxies, [view('listener-a', 8001), view('listener-b', 9002)]);
    sent.change('two', proxies, [view('listener-c', 8003)]);
    const fresh = new ReceivedHttpViews();
    const whole = new Map(sent.whole().map(([account, change]) => [account, fresh.apply(account, change).map((v) => `${v.listenerId}:${v.port}`)]));
    assert.deepEqual(Object.fromEntries(whole), { one: ['listener-a:8001', 'listener-b:9002'], two: ['listener-c:8003'] });
  });
});
