import { createHash } from 'node:crypto';
import { ApiError, invalidParameterValue } from '../../../core/errors';
import type { ProxyInfo, TagPair } from '../../../spec/gaap.types';
import { hasAnyTag } from '../../kit/tags';
import type { ListQuery, ListResult, ResourceRecord, StoreTx } from '../../../store/types';
import type { ActionContext } from '../../types';
import { removeListenersOf } from '../listener/model';
import { lifecycle } from '../../kit/lifecycle';
import { groupLife, type GroupData } from '../group/model';
import { KIND } from '../kinds';
import { removePolicyOf } from '../security/model';
import { startTask } from '../task/model';
import { clearCounters } from '../stats/model';

/**
 * Helpers shared by the proxy, proxy-group, security-policy and tag modules:
 * statuses, the tag index, ClientToken idempotency and cascading removal.
 */

/** Proxy statuses (ProxyInfo.Status). */
export const PROXY = {
  RUNNING: 'RUNNING',
  CREATING: 'CREATING',
  DESTROYING: 'DESTROYING',
  OPENING: 'OPENING',
  CLOSING: 'CLOSING',
  CLOSED: 'CLOSED',
  ADJUSTING: 'ADJUSTING',
  ISOLATING: 'ISOLATING',
  ISOLATED: 'ISOLATED',
  CLONING: 'CLONING',
  RECOVERING: 'RECOVERING',
  MOVING: 'MOVING',
} as const;

export type ProxyStatus = (typeof PROXY)[keyof typeof PROXY];

/**
 * A proxy record's data is ProxyInfo exactly as answered (pages of it go out
 * unparsed), with RelatedGlobalDomains filled in on reading.
 */
export type ProxyData = ProxyInfo;
export type ProxyRec = ResourceRecord<ProxyData>;

/**
 * A proxy's statuses; the busy ones are those during which an operation on
 * it is still in flight. Its status lives in the column and in ProxyInfo.Status.
 */
export const proxyLife = lifecycle<string, ProxyData, string>({
  noun: 'proxy',
  statuses: Object.values(PROXY),
  busy: [PROXY.CREATING, PROXY.DESTROYING, PROXY.OPENING, PROXY.CLOSING, PROXY.ADJUSTING, PROXY.ISOLATING, PROXY.CLONING, PROXY.RECOVERING, PROXY.MOVING],
  read: (rec) => rec.status ?? String(rec.data.Status ?? ''),
  write: (data, status) => ({ ...data, Status: status }),
  column: (status) => status,
  schedule: (ctx, transition, payload) => startTask(ctx, transition, payload),
});

/** Proxy statuses in which a proxy carries traffic: running, or changing its configuration while running. */
const SERVING_PROXY: ReadonlySet<string> = new Set([PROXY.RUNNING, PROXY.ADJUSTING, PROXY.MOVING]);
/** BanStatus values under which a resource is blocked: banned, being unbanned, or failed to be unbanned. */
export const BANNED: ReadonlySet<string> = new Set(['BANNED', 'RECOVERING', 'RECOVER_FAILED']);

/**
 * True while a proxy carries traffic: in a serving status and not banned.
 * The forwarding view and the DNS view both ask this, so a proxy the data
 * plane serves is the proxy DNS answers with.
 */
export function proxyServes(status: string | null, data: { InBanBlacklist?: unknown; BanStatus?: unknown; Status?: unknown }): boolean {
  const s = status ?? (typeof data.Status === 'string' ? data.Status : '');
  return SERVING_PROXY.has(s) && data.InBanBlacklist !== 1 && !BANNED.has(typeof data.BanStatus === 'string' ? data.BanStatus : '');
}

/**
 * One page of `kind` records matching `query` and, when `tags` is given,
 * carrying any of them. Tags live in each record's `data.TagSet` (the Tag
 * API edits them there), so a tag filter reads the records matched by the
 * other criteria and pages in memory; without tags the store pages.
 */
export async function listPage<T>(tx: StoreTx, kind: string, query: ListQuery, tags: TagPair[] | undefined): Promise<ListResult<T>> {
  if (!tags) return tx.list<T>(kind, query);
  const { offset = 0, limit, ...rest } = query;
  const all = (await tx.list<T>(kind, rest)).items.filter((r) => hasAnyTag(r.data, tags));
  return { total: all.length, items: all.slice(offset, limit === undefined ? undefined : offset + limit) };
}

const TOKEN_NS = 'gaap.clientToken';

function fingerprint(input: Record<string, unknown>): string {
  const { ClientToken: _token, ...rest } = input;
  const canon = (v: unknown): unknown =>
    Array.isArray(v) ? v.map(canon)
      : v && typeof v === 'object' ? Object.fromEntries(Object.keys(v as object).sort().map((k) => [k, canon((v as Record<string, unknown>)[k])]))
        : v;
  return createHash('sha256').update(JSON.stringify(canon(rest))).digest('hex');
}

/**
 * ClientToken idempotency: the first call with a token runs and its answer
 * is kept; a replay of the same action with the same parameters gets that
 * answer again without doing anything; the same token with another action
 * or other parameters is FailedOperation.DuplicatedRequest.
 */
export async function idempotent<T>(ctx: ActionContext, input: object & { ClientToken?: string }, run: () => Promise<T>): Promise<T> {
  const token = input.ClientToken;
  if (token === undefined || token === '') return run();
  if (token.length > 64 || !/^[\x20-\x7e]+$/.test(token)) throw invalidParameterValue('ClientToken', 'expected at most 64 ASCII characters');
  const fp = fingerprint(input as Record<string, unknown>);
  const prev = await ctx.tx.kvGet<{ action: string; fingerprint: string; response: T }>(TOKEN_NS, token);
  if (prev) {
    if (prev.action === ctx.action && prev.fingerprint === fp) return prev.response;
    throw new ApiError('FailedOperation.DuplicatedRequest', `The ClientToken \`${token}\` was already used by another request.`);
  }
  const response = await run();
  await ctx.tx.kvPut(TOKEN_NS, token, { action: ctx.action, fingerprint: fp, response });
  return response;
}


/**
 * Re-derives a group's status from its proxies, unless the group itself is
 * being created or destroyed: CHANGING while a proxy is in flight, CLOSED when
 * every proxy is closed, RUNNING otherwise.
 */
export async function refreshGroupStatus(tx: StoreTx, groupId: string | null | undefined): Promise<void> {
  if (!groupId) return;
  const group = await tx.get<GroupData>(KIND.group, groupId);
  if (!group || groupLife.isBusy(group)) return;
  const { items } = await tx.list<ProxyData>(KIND.proxy, { parent: groupId });
  let status = 'RUNNING';
  if (items.some((p) => proxyLife.isBusy(p))) status = 'CHANGING';
  else if (items.length > 0 && items.every((p) => p.status === PROXY.CLOSED)) status = 'CLOSED';
  await groupLife.move(tx, group, status, { ProxyNum: items.length });
}

/** Removes a proxy and everything under it (listeners, rules, domains, policy, tags). */
export async function removeProxy(tx: StoreTx, proxyId: string): Promise<void> {
  await removeListenersOf(tx, proxyId, 'ProxyId');
  await removePolicyOf(tx, proxyId);
  await tx.delete(KIND.proxy, proxyId);
  await clearCounters(tx, 'proxy', proxyId);
}

/**
 * A proxy's access address: the next address of the loopback pool (shared
 * by every account, so two proxies never share one until the pool wraps),
 * skipping the pool's first and last address; a one-address pool gives
 * every proxy that address. IPv6 proxies answer on `::1`.
 */
export async function proxyAddress(tx: StoreTx, pool: string, ipv6: boolean): Promise<string> {
  if (ipv6) return '::1';
  const [base, bits] = pool.split('/');
  const size = 2 ** (32 - Number(bits));
  const start = Math.floor(base.split('.').reduce((n, o) => n * 256 + Number(o), 0) / size) * size;
  const n = await tx.nextSequence(`gaap.proxyAddress:${pool}`, 'shared');
  const host = size <= 2 ? (n - 1) % size : 1 + ((n - 1) % (size - 2));
  const a = start + host;
  return [a >>> 24, (a >>> 16) & 255, (a >>> 8) & 255, a & 255].join('.');
}

export function forwardIps(n: number): string {
  return `10.${(n >> 8) & 255}.${n & 255}.10;10.${(n >> 8) & 255}.${n & 255}.11;`;
}

/**
 * Fills ProxyInfo.RelatedGlobalDomains of a page of proxies from the global
 * domains' DNS records (data.ProxyIdList / data.DomainId, read defensively).
 */
export async function withRelatedGlobalDomains<T extends { ProxyId: string }>(tx: StoreTx, proxies: T[]): Promise<T[]> {
  if (proxies.length === 0) return proxies;
  const { items } = await tx.list(KIND.dnsRecord);
  if (items.length === 0) return proxies.map((p) => ({ ...p, RelatedGlobalDomains: [] }));
  const byProxy = new Map<string, Set<string>>();
  for (const r of items) {
    const d = (r.data ?? {}) as { ProxyIdList?: unknown; DomainId?: unknown };
    const domain = typeof d.DomainId === 'string' ? d.DomainId : r.parent;
    if (!domain || !Array.isArray(d.ProxyIdList)) continue;
    for (const id of d.ProxyIdList) {
      if (typeof id !== 'string') continue;
      const set = byProxy.get(id) ?? new Set<string>();
      set.add(domain);
      byProxy.set(id, set);
    }
  }
  return proxies.map((p) => ({ ...p, RelatedGlobalDomains: [...(byProxy.get(p.ProxyId) ?? [])].sort() }));
}

/**
 * Moves the proxies in `from` to `transient` and schedules `transition`
 * (→ final status). Proxies with an operation in flight are reported in
 * OperationFailedInstanceSet (retry later); proxies in any other status in
 * InvalidStatusInstanceSet.
 */
export async function switchProxies(ctx: ActionContext, recs: ProxyRec[], from: string, transient: string, transition: string) {
  const invalid: string[] = [];
  const failed: string[] = [];
  const moved: string[] = [];
  const groups = new Set<string>();
  for (const rec of recs) {
    if (rec.status === from) {
      await proxyLife.move(ctx.tx, rec, transient);
      moved.push(rec.id);
      if (rec.data.GroupId) groups.add(rec.data.GroupId);
    } else if (proxyLife.isBusy(rec)) failed.push(rec.id);
    else invalid.push(rec.id);
  }
  for (const g of groups) await refreshGroupStatus(ctx.tx, g);
  if (moved.length > 0) await startTask(ctx, transition, { ids: moved });
  return { InvalidStatusInstanceSet: invalid, OperationFailedInstanceSet: failed };
}

/** Moves each listed proxy still in `from` to `to`, then refreshes their groups. */
export async function finishSwitch(tx: StoreTx, ids: string[], from: string, to: string): Promise<void> {
  const groups = new Set<string>();
  for (const id of ids) {
    const rec = await tx.get<ProxyData>(KIND.proxy, id);
    if (!rec || rec.status !== from) continue;
    await proxyLife.move(tx, rec, to);
    if (rec.data.GroupId) groups.add(rec.data.GroupId);
  }
  for (const g of groups) await refreshGroupStatus(tx, g);
}
