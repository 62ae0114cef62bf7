import type { TrafficSnapshot } from './traffic';
import type { LiveOrigin } from './wire';

/**
 * The data plane's live origin health for the resource pages: every origin
 * binding of one account, found under each id it belongs to (its real
 * server, listener, rule and proxy).
 */
export function liveByResource(snapshot: TrafficSnapshot, account: string): Map<string, LiveOrigin[]> {
  const out = new Map<string, LiveOrigin[]>();
  const add = (id: string | undefined, o: LiveOrigin) => {
    if (!id) return;
    const list = out.get(id);
    if (list) list.push(o);
    else out.set(id, [o]);
  };
  for (const p of snapshot.proxies) {
    if (p.account !== account) continue;
    for (const l of p.listeners) {
      for (const origin of l.origins) {
        const o: LiveOrigin = {
          proxyId: p.proxyId, listenerId: l.listenerId, ruleId: origin.ruleId ?? null, realServerId: origin.realServerId,
          address: origin.address, port: origin.port, healthy: origin.healthy, connections: origin.connections,
        };
        add(origin.realServerId, o);
        add(l.listenerId, o);
        add(origin.ruleId, o);
        add(p.proxyId, o);
      }
    }
  }
  return out;
}
