import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ForwardingProxy } from '../../src/services/gaap/forwarding';
import type { HttpListener } from '../../src/services/gaap/forwarding-http';
import { changedIds, ReceivedHttpViews, SentHttpViews } from '../../src/dataplane/http-views';

const proxies = [{ proxyId: 'link-1' }] as unknown as ForwardingProxy[];
const view = (listenerId: string, port: number): HttpListener => ({
  listenerId, protocol: 'HTTP', port, proxyIds: ['link-1'], groupId: null, serving: true, mutualAuth: false, security: null, certificate: undefined, http3: false, domains: [],
});
const byId = (...views: HttpListener[]) => new Map(views.map((v) => [v.listenerId, v]));
const ids = (...list: string[]) => new Set(list);

describe('data plane: HTTP views sent to the forwarder processes', () => {
  it('sends only the listeners read again whose views differ, and a forwarder adds the changes up to the whole set', () => {
    const sent = new SentHttpViews();
    const got = new ReceivedHttpViews();
    const a = view('listener-a', 8001);
    const b = view('listener-b', 8002);
    const first = sent.change('acct', proxies, byId(a, b), ids('listener-a', 'listener-b'))!;
    assert.deepEqual(first.changed.map((v) => v.listenerId), ['listener-a', 'listener-b']);
    assert.deepEqual([...got.apply('acct', first).values()], [a, b]);
    assert.deepEqual(changedIds(first), ids('listener-a', 'listener-b'));

    // The same views read again (a commit that changed nothing they show): nothing to send.
    assert.equal(sent.change('acct', proxies, byId(view('listener-a', 8001), view('listener-b', 8002)), ids('listener-a', 'listener-b')), undefined);

    // One listener changes: only it goes out; the forwarder still holds both.
    const b2 = view('listener-b', 9002);
    const second = sent.change('acct', proxies, byId(a, b2), ids('listener-b'))!;
    assert.deepEqual(second.changed, [b2]);
    assert.deepEqual(second.removed, []);
    assert.deepEqual([...got.apply('acct', second).values()], [a, b2]);
    assert.deepEqual(changedIds(second), ids('listener-b'));

    // A listener not read again is not compared, nor sent.
    const unread = sent.change('acct', proxies, byId(view('listener-a', 7001), b2), ids());
    assert.equal(unread, undefined);

    // A listener goes: only its id goes out.
    const third = sent.change('acct', proxies, byId(b2), ids('listener-a'))!;
    assert.deepEqual(third, { proxies, changed: [], removed: ['listener-a'] });
    assert.deepEqual([...got.apply('acct', third).values()], [b2]);

    // The proxies alone change (a cap): they go out with no listener.
    const capped = [{ proxyId: 'link-1', maxConnections: 5 }] as unknown as ForwardingProxy[];
    assert.deepEqual(sent.change('acct', capped, byId(b2), ids()), { proxies: capped, changed: [], removed: [] });

    // The last listener goes: the account is forgotten on both sides.
    assert.deepEqual(sent.change('acct', capped, byId(), ids('listener-b')), { proxies: capped, changed: [], removed: ['listener-b'] });
    assert.deepEqual([...got.apply('acct', { proxies: capped, changed: [], removed: ['listener-b'] }).values()], []);
    assert.equal(sent.change('acct', capped, byId(), ids()), undefined);
  });

  it('a whole set read again is compared whole: what it lacks is gone', () => {
    const sent = new SentHttpViews();
    const a = view('listener-a', 8001);
    sent.change('acct', proxies, byId(a, view('listener-b', 8002)), ids('listener-a', 'listener-b'));
    assert.deepEqual(sent.change('acct', proxies, byId(a), 'all'), { proxies, changed: [], removed: ['listener-b'] });
    assert.equal(sent.change('acct', proxies, byId(a), 'all'), undefined);
  });

  it('a forwarder started afresh gets every account\'s whole set at once', () => {
    const sent = new SentHttpViews();
    sent.change('one', proxies, byId(view('listener-a', 8001), view('listener-b', 8002)), ids('listener-a', 'listener-b'));
    sent.change('one', proxies, byId(view('listener-a', 8001), view('listener-b', 9002)), ids('listener-b'));
    sent.change('two', proxies, byId(view('listener-c', 8003)), ids('listener-c'));
    const fresh = new ReceivedHttpViews();
    const whole = new Map(sent.whole().map(([account, change]) => [account, [...fresh.apply(account, change).values()].map((v) => `${v.listenerId}:${v.port}`)]));
    assert.deepEqual(Object.fromEntries(whole), { one: ['listener-a:8001', 'listener-b:9002'], two: ['listener-c:8003'] });
  });
});
