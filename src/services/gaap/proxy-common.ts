import { createHash } from 'node:crypto';
import { ApiError, invalidParameterValue } from '../../core/errors';
import type { TagPair } from '../../spec/gaap.types';
import type { ListQuery, ListResult, ResourceRecord, StoreTx } from '../../store/types';
import type { ActionContext } from '../types';
import { KIND } from './model';

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

/** Statuses during which an operation on the proxy is still in flight. */
export const PROXY_TRANSIENT: ReadonlySet<string> = new Set([
  PROXY.CREATING, PROXY.DESTROYING, PROXY.OPENING, PROXY.CLOSING, PROXY.ADJUSTING,
  PROXY.ISOLATING, PROXY.CLONING, PROXY.RECOVERING, PROXY.MOVING,
]);

/** Proxy-group statuses: the string of ProxyGroupInfo (kept in the record's status column) and the integer of ProxyGroupDetail. */
export const GROUP_STATUS_CODE: Record<string, number> = {
  RUNNING: 0,
  CREATING: 1,
  // CLOSED has no documented integer; 2 is the value tclocal answers.
  CLOSED: 2,
  DESTROYING: 4,
  MOVING: 11,
  CHANGING: 12,
};

export const TAG_RESOURCE = { proxy: 'Proxy', group: 'ProxyGroup', realServer: 'RealServer', globalDomain: 'domain' } as const;

/** Checks a TagSet given at creation; returns it normalized. */
export function checkTagSet(tags: TagPair[] | undefined): TagPair[] {
  const out: TagPair[] = [];
  const seen = new Set<string>();
  for (const t of tags ?? []) {
    const key = (t.TagKey ?? '').trim();
    if (!key || key.length > 127) {
      throw new ApiError('InvalidParameterValue.InvalidTags', `The tag key \`${t.TagKey}\` is not valid: expected 1 to 127 characters.`);
    }
    if ((t.TagValue ?? '').length > 255) {
      throw new ApiError('InvalidParameterValue.InvalidTags', `The value of tag \`${key}\` is not valid: expected at most 255 characters.`);
    }
    if (seen.has(key)) throw new ApiError('InvalidParameterValue.InvalidTags', `The tag key \`${key}\` appears more than once in \`TagSet\`.`);
    seen.add(key);
    out.push({ TagKey: key, TagValue: t.TagValue ?? '' });
  }
  if (out.length > 50) throw new ApiError('LimitExceeded.TagQuota', `At most 50 tags may be bound to one resource; \`TagSet\` has ${out.length}.`);
  return out;
}

/** Checks a TagSet used as a filter (at most 5 tags, OR semantics). */
export function checkTagFilter(tags: TagPair[] | undefined): TagPair[] | undefined {
  if (!tags || tags.length === 0) return undefined;
  if (tags.length > 5) throw invalidParameterValue('TagSet', 'at most 5 tags may be given');
  return tags;
}

/** True when the record data's TagSet carries any of `tags` (key and value both match). */
export function hasAnyTag(data: unknown, tags: TagPair[]): boolean {
  return tags.some((t) => hasTag(data, t.TagKey, t.TagValue));
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

/** True when a record's `data.TagSet` carries the tag (for resources of other modules). */
export function hasTag(data: unknown, key: string, value: string): boolean {
  const set = (data as { TagSet?: unknown } | null)?.TagSet;
  return Array.isArray(set) && set.some((t) => t && (t as TagPair).TagKey === key && (t as TagPair).TagValue === value);
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

/** Real servers bound to a listener or rule record, read defensively. */
function hasBoundRealServers(data: unknown): boolean {
  const set = (data as { RealServerSet?: unknown } | null)?.RealServerSet;
  return Array.isArray(set) && set.length > 0;
}

/** Listener records of a proxy or group (by parent, and by data.ProxyId / data.GroupId). */
export async function listenersOf(tx: StoreTx, ownerId: string, field: 'ProxyId' | 'GroupId'): Promise<ResourceRecord[]> {
  const byId = new Map<string, ResourceRecord>();
  for (const r of (await tx.list(KIND.listener, { parent: ownerId })).items) byId.set(r.id, r);
  for (const r of (await tx.list(KIND.listener, { where: [{ field, values: [ownerId] }] })).items) byId.set(r.id, r);
  return [...byId.values()];
}

async function rulesOf(tx: StoreTx, listenerIds: string[]): Promise<ResourceRecord[]> {
  if (listenerIds.length === 0) return [];
  const byId = new Map<string, ResourceRecord>();
  for (const r of (await tx.list(KIND.rule, { where: [{ field: 'ListenerId', values: listenerIds }] })).items) byId.set(r.id, r);
  for (const id of listenerIds) for (const r of (await tx.list(KIND.rule, { parent: id })).items) byId.set(r.id, r);
  return [...byId.values()];
}

/** True when a listener of the proxy/group, or a rule under one, has real servers bound. */
export async function ownerHasBoundRealServers(tx: StoreTx, ownerId: string, field: 'ProxyId' | 'GroupId'): Promise<boolean> {
  const listeners = await listenersOf(tx, ownerId, field);
  if (listeners.some((l) => hasBoundRealServers(l.data))) return true;
  const rules = await rulesOf(tx, listeners.map((l) => l.id));
  return rules.some((r) => hasBoundRealServers(r.data));
}

/** Removes the listeners of a proxy/group with their rules, L7 domains and error pages. */
export async function removeListenersOf(tx: StoreTx, ownerId: string, field: 'ProxyId' | 'GroupId'): Promise<void> {
  const listeners = await listenersOf(tx, ownerId, field);
  const ids = listeners.map((l) => l.id);
  for (const r of await rulesOf(tx, ids)) await tx.delete(KIND.rule, r.id);
  for (const kind of [KIND.domain, KIND.errorPage]) {
    if (ids.length === 0) break;
    const seen = new Set<string>();
    for (const r of (await tx.list(kind, { where: [{ field: 'ListenerId', values: ids }] })).items) seen.add(r.id);
    for (const id of ids) for (const r of (await tx.list(kind, { parent: id })).items) seen.add(r.id);
    for (const id of seen) await tx.delete(kind, id);
  }
  for (const id of ids) await tx.delete(KIND.listener, id);
}

/** Removes the security policy of a proxy/group and its rules. */
export async function removePolicyOf(tx: StoreTx, ownerId: string): Promise<void> {
  const { items } = await tx.list(KIND.securityPolicy, { parent: ownerId });
  for (const p of items) {
    for (const r of (await tx.list(KIND.securityRule, { parent: p.id })).items) await tx.delete(KIND.securityRule, r.id);
    await tx.delete(KIND.securityPolicy, p.id);
  }
}

/** Sets a proxy's status (column and data) and returns the new record. */
export async function setProxyStatus(tx: StoreTx, rec: ResourceRecord<Record<string, unknown>>, status: string, extra: Record<string, unknown> = {}): Promise<ResourceRecord<Record<string, unknown>>> {
  const next = { ...rec, status, data: { ...rec.data, ...extra, Status: status } };
  await tx.put(next);
  return next;
}

/**
 * Re-derives a group's status from its proxies, unless the group itself is
 * being created or destroyed: CHANGING while a proxy is in flight, CLOSED when
 * every proxy is closed, RUNNING otherwise.
 */
export async function refreshGroupStatus(tx: StoreTx, groupId: string | null | undefined): Promise<void> {
  if (!groupId) return;
  const group = await tx.get<Record<string, unknown>>(KIND.group, groupId);
  if (!group || group.status === 'CREATING' || group.status === 'DESTROYING') return;
  const { items } = await tx.list(KIND.proxy, { parent: groupId });
  let status = 'RUNNING';
  if (items.some((p) => PROXY_TRANSIENT.has(p.status ?? ''))) status = 'CHANGING';
  else if (items.length > 0 && items.every((p) => p.status === PROXY.CLOSED)) status = 'CLOSED';
  await tx.put({ ...group, status, data: { ...group.data, Status: GROUP_STATUS_CODE[status], ProxyNum: items.length } });
}

/** Removes a proxy and everything under it (listeners, rules, domains, policy, tags). */
export async function removeProxy(tx: StoreTx, proxyId: string): Promise<void> {
  await removeListenersOf(tx, proxyId, 'ProxyId');
  await removePolicyOf(tx, proxyId);
  await tx.delete(KIND.proxy, proxyId);
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
