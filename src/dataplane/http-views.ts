/**
 * An account's HTTP listener views on their way to the forwarder processes.
 * A view carries its certificates and keys, error pages and user lists, so
 * an account's whole set grows with its listeners: the main process sends
 * only the listeners read again whose view differs from the one it last
 * sent, and each forwarder adds the changes up to the whole set and
 * configures again only the listeners a change names. A forwarder started
 * again gets every account's whole set as one change.
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

  /**
   * What to send for an account now that the listeners in `changed` were
   * read again (absent from `views`: gone; 'all': `views` is the whole set);
   * undefined when nothing differs from what was last sent.
   */
  change(account: string, proxies: ForwardingProxy[], views: ReadonlyMap<string, HttpListener>, changed: ReadonlySet<string> | 'all'): HttpViewsChange | undefined {
    const before = this.accounts.get(account);
    const sent: Sent = before ?? { proxies, proxiesText: '', views: new Map() };
    const changedViews: HttpListener[] = [];
    const removed: string[] = [];
    for (const id of changed === 'all' ? new Set([...views.keys(), ...sent.views.keys()]) : changed) {
      const view = views.get(id);
      if (!view) {
        if (sent.views.delete(id)) removed.push(id);
        continue;
      }
      const text = JSON.stringify(view);
      if (sent.views.get(id)?.text === text) continue;
      sent.views.set(id, { view, text });
      changedViews.push(view);
    }
    const proxiesText = JSON.stringify(proxies);
    const proxiesChanged = proxiesText !== sent.proxiesText;
    sent.proxies = proxies;
    sent.proxiesText = proxiesText;
    if (sent.views.size > 0) this.accounts.set(account, sent);
    else this.accounts.delete(account);
    // An account never sent, and with nothing to send, stays unknown to the forwarders.
    if (!before && changedViews.length === 0) return undefined;
    if (changedViews.length === 0 && removed.length === 0 && !proxiesChanged) return undefined;
    return { proxies, changed: changedViews, removed };
  }

  /** Every account's views as one change each: for a forwarder that knows none. */
  whole(): Array<[string, HttpViewsChange]> {
    return [...this.accounts].map(([account, s]) => [account, { proxies: s.proxies, changed: [...s.views.values()].map((v) => v.view), removed: [] }]);
  }
}

/** The listeners a change names, changed or gone. */
export const changedIds = (change: HttpViewsChange): Set<string> => new Set([...change.changed.map((v) => v.listenerId), ...change.removed]);

/** A forwarder's side: each account's views added up from the changes received. */
export class ReceivedHttpViews {
  private readonly accounts = new Map<string, Map<string, HttpListener>>();

  /** Adds a change up; answers the account's whole set of views. */
  apply(account: string, change: HttpViewsChange): ReadonlyMap<string, HttpListener> {
    const views = this.accounts.get(account) ?? new Map<string, HttpListener>();
    for (const id of change.removed) views.delete(id);
    for (const v of change.changed) views.set(v.listenerId, v);
    if (views.size === 0) this.accounts.delete(account);
    else this.accounts.set(account, views);
    return views;
  }
}
