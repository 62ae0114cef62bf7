/**
 * Resources of other GAAP modules (proxies, groups, listeners, real servers,
 * rules) written straight into the store, in the documented response shape
 * those modules store, so that catalogue, statistics and global-domain tests
 * do not depend on the creation flows of other actions.
 */
import type { AccountConfig } from '../../../../src/config';
import { KIND } from '../../../../src/services/gaap/kinds';
import type { RunningServer } from '../../../../src/server';

export async function seed(server: RunningServer, account: AccountConfig, kind: string, id: string, data: Record<string, unknown>, parent: string | null = null): Promise<void> {
  await server.store.transaction(account.uin, (tx) => tx.put({ kind, id, parent, status: (data.Status as string) ?? null, createdAt: Date.now(), data }));
}

export async function seedProxy(server: RunningServer, account: AccountConfig, id: string, extra: Record<string, unknown> = {}): Promise<void> {
  await seed(server, account, KIND.proxy, id, {
    ProxyId: id, InstanceId: id, ProxyName: `name-${id}`, ProjectId: 0, AccessRegion: 'Hongkong', RealServerRegion: 'Beijing',
    Bandwidth: 10, Concurrent: 2, Status: 'RUNNING', IP: '119.28.0.10', Domain: `${id}.gaapqcloud.com.cn`, GroupId: null,
    IPList: [{ IP: '119.28.0.10', Provider: 'BGP', Bandwidth: 10 }], ...extra,
  });
}

export async function seedGroup(server: RunningServer, account: AccountConfig, id: string, extra: Record<string, unknown> = {}): Promise<void> {
  await seed(server, account, KIND.group, id, { GroupId: id, GroupName: `name-${id}`, ProjectId: 0, Status: 'RUNNING', ...extra });
}

export async function seedListener(server: RunningServer, account: AccountConfig, id: string, owner: { ProxyId?: string; GroupId?: string }, extra: Record<string, unknown> = {}): Promise<void> {
  await seed(server, account, KIND.listener, id, {
    ListenerId: id, ListenerName: `name-${id}`, Port: 80, Protocol: 'TCP', ListenerStatus: 0, ProxyId: owner.ProxyId ?? null, GroupId: owner.GroupId ?? null, ...extra,
  }, owner.ProxyId ?? owner.GroupId ?? null);
}
