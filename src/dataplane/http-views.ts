/**
 * An account's HTTP listener views on their way to the forwarder processes.
 * A view carries its certificates and keys, error pages and user lists, so
 * an account's whole set grows with its listeners: the main process sends
 * only the listeners whose view changed since it last sent them, and each
 * forwarder adds the changes up to the whole set it applies. A forwarder
 * started again gets every account's whole set as one change.
 */
import type { ForwardingProxy } from '../services/gaap/forwarding';
import type { HttpListener } from '../services/gaap/forwarding-http';

/** What changed in an account's HTTP views: its proxies (always whole: they are small), the listeners new or different, the listeners gone. */
export interface HttpViewsChange {
  proxies: ForwardingProxy[];
  changed: HttpListener[];
  removed: string[];
}

interface Sent {
  proxies: ForwardingProxy[];
  proxiesText: string;
  /** Each listener's view and its text, in the order last given. */
  views: Map<string, { view: HttpListener; text: string }>;
}

/** The main process's side: each account's views as last sent. */
export class SentHttpViews {
  private readonly accounts = new Map<string, Sent>();

  /** What to send for an account's views now; undefined when they are the same as last sent (or none, and none were sent). */
  change(account: string, proxies: ForwardingProxy[], views: readonly HttpListener[]): HttpViewsChange | undefined {
    const before = this.accounts.get(account);
    if (views.length === 0) {
      if (!before) return undefined;
      this.accounts.delete(account);
      return { proxies, changed: [], removed: [...before.views.keys()] };
    }
    const proxiesText = JSON.stringify(proxies);
    const next: Sent = { proxies, proxiesText, views: new Map() };
    const changed: HttpListener[] = [];
    for (const view of views) {
      const text = JSON.stringify(view);
      next.views.set(view.listenerId, { view, text });
      if (before?.views.get(view.listenerId)?.text !== text) changed.push(view);
    }
    const removed = before ? [...before.views.keys()].filter((id) => !next.views.has(id)) : [];
    this.accounts.set(account, next);
    if (changed.length === 0 && removed.length === 0 && before?.proxiesText === proxiesText) return undefined;
    return { proxies, changed, removed };
  }

  /** Every account's views as one change each: for a forwarder that knows none. */
  whole(): Array<[string, HttpViewsChange]> {
    return [...this.accounts].map(([account, s]) => [account, { proxies: s.proxies, changed: [...s.views.values()].map((v) => v.view), removed: [] }]);
  }
}

/** A forwarder's side: each account's views added up from the changes received. */
export class ReceivedHttpViews {
  private readonly accounts = new Map<string, Map<string, HttpListener>>();

  /** Adds a change up; answers the account's whole set of views. */
  apply(account: string, change: HttpViewsChange): HttpListener[] {
    const views = this.accounts.get(account) ?? new Map<string, HttpListener>();
    for (const id of change.removed) views.delete(id);
    for (const v of change.changed) views.set(v.listenerId, v);
    if (views.size === 0) this.accounts.delete(account);
    else this.accounts.set(account, views);
    return [...views.values()];
  }
}
