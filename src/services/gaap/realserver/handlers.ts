import { isIP } from 'node:net';
import { ApiError, invalidParameterValue, resourceNotFound } from '../../../core/errors';
import { resourceId } from '../../../core/ids';
import type { AddRealServersRequest, BindListenerRealServersRequest, BindRealServer, DescribeListenerRealServersRequest, DescribeRealServersRequest, DescribeRealServersStatusRequest, GaapActions, ModifyRealServerNameRequest, RemoveRealServersRequest } from '../../../spec/gaap.types';
import type { ResourceRecord, Store } from '../../../store/types';
import type { HandlerPart, TransitionHandler } from '../../types';
import { LIMITS, LISTENER, LISTENER_T, assertListenerIdle, assertOwnerRunning, getListener, ownerOf, listenerLife } from '../listener/model';
import { paging } from '../../kit/paging';
import { clearCounters } from '../stats/model';
import { checkTagSet } from '../../kit/tags';
import { KIND } from '../kinds';
import { addressKey, addressType, bindingsByServer, checkBindSet, realServerTypeOf, realServerView, type RealServerData } from './model';
import { TAG_CODES } from '../tag/model';

/**
 * Real servers (origins): account-level IP or domain entries, bound to
 * TCP/UDP listeners here and to L7 rules by the rule module.
 */

/** The DescribeRealServers view (BindRealServerInfo structure). */
const info = (rs: RealServerData) => ({
  RealServerIP: rs.RealServerIP,
  RealServerId: rs.RealServerId,
  RealServerName: rs.RealServerName,
  ProjectId: rs.ProjectId,
  TagSet: rs.TagSet ?? [],
});

/**
 * SearchValue matches addresses by substring, except that a complete IP
 * address matches only itself (so `1.2.2.2` does not find `1.2.2.20`).
 */
function searchMatches(address: string, search: string): boolean {
  const s = addressKey(search);
  if (!s) return true;
  if (isIP(s)) return addressKey(address) === s;
  return addressKey(address).includes(s);
}

const FILTERS = ['RealServerName', 'RealServerIP'];

export const handlers = {
  /** One real server per address, all with the same name, project and tags. */
  AddRealServers: async (input: AddRealServersRequest, ctx) => {
    if (!Number.isInteger(input.ProjectId) || input.ProjectId < 0) {
      throw new ApiError('InvalidParameterValue.ProjectIdNotBelong', `The project \`${input.ProjectId}\` does not belong to the account.`);
    }
    if (input.RealServerIP.length === 0) throw invalidParameterValue('RealServerIP', 'at least one IP address or domain name is required');
    if (!input.RealServerName.trim()) throw invalidParameterValue('RealServerName', 'it cannot be empty');
    const tags = checkTagSet(input.TagSet, TAG_CODES);
    const existing = new Set((await ctx.tx.list<RealServerData>(KIND.realServer)).items.map((r) => addressKey(r.data.RealServerIP)));
    const fresh = new Set<string>();
    const types: string[] = [];
    input.RealServerIP.forEach((address, i) => {
      const type = addressType(address.trim());
      if (!type) throw invalidParameterValue(`RealServerIP.${i}`, `\`${address}\` is neither an IP address nor a domain name`);
      const key = addressKey(address);
      if (existing.has(key) || fresh.has(key)) throw new ApiError('InvalidParameterValue.DuplicateRS', `The real server \`${address}\` already exists.`);
      fresh.add(key);
      types.push(type);
    });
    const set = [];
    for (let i = 0; i < input.RealServerIP.length; i++) {
      const id = resourceId('rs');
      const data: RealServerData = {
        RealServerId: id,
        RealServerIP: input.RealServerIP[i].trim(),
        RealServerName: input.RealServerName,
        ProjectId: input.ProjectId,
        TagSet: tags,
        InBanBlacklist: 0,
        RealServerType: types[i],
      };
      await ctx.tx.put({ kind: KIND.realServer, id, parent: null, status: null, createdAt: ctx.now, data });
      set.push({ RealServerId: id, RealServerIP: data.RealServerIP });
    }
    return { RealServerSet: set };
  },

  DescribeRealServers: async (input: DescribeRealServersRequest, ctx) => {
    const { offset, limit } = paging(input, { maxLimit: 50 });
    if (input.TagSet && input.TagSet.length > 5) throw invalidParameterValue('TagSet', 'at most 5 tags may be given');
    for (const f of input.Filters ?? []) {
      if (!FILTERS.includes(f.Name)) throw invalidParameterValue('Filters.Name', `\`${f.Name}\` is not a filter of this action (expected ${FILTERS.join(' or ')})`);
    }
    const where = input.ProjectId === -1 ? [] : [{ field: 'ProjectId', values: [input.ProjectId] }];
    const needsScan = input.SearchValue !== undefined || (input.TagSet?.length ?? 0) > 0 || (input.Filters?.length ?? 0) > 0;
    if (!needsScan) {
      const page = await ctx.tx.list<RealServerData>(KIND.realServer, { where, offset, limit });
      return { RealServerSet: page.items.map((r) => info(r.data)), TotalCount: page.total };
    }
    const { items } = await ctx.tx.list<RealServerData>(KIND.realServer, { where });
    const hits = items.filter(({ data }) => {
      if (input.SearchValue !== undefined && !searchMatches(data.RealServerIP, input.SearchValue)) return false;
      for (const f of input.Filters ?? []) {
        const value = f.Name === 'RealServerName' ? data.RealServerName : data.RealServerIP;
        if (!f.Values.includes(value)) return false;
      }
      if (input.TagSet && input.TagSet.length > 0) {
        const tags = data.TagSet ?? [];
        if (!input.TagSet.some((t) => tags.some((x) => x.TagKey === t.TagKey && x.TagValue === t.TagValue))) return false;
      }
      return true;
    });
    return { RealServerSet: hits.slice(offset, offset + limit).map((r) => info(r.data)), TotalCount: hits.length };
  },

  /** All or nothing: every id must exist and none may be bound. */
  RemoveRealServers: async (input: RemoveRealServersRequest, ctx) => {
    if (input.RealServerIds.length === 0) throw invalidParameterValue('RealServerIds', 'at least one real server ID is required');
    const bindings = await bindingsByServer(ctx.tx);
    const ids = [...new Set(input.RealServerIds)];
    for (const id of ids) {
      if (!(await ctx.tx.get(KIND.realServer, id))) throw resourceNotFound('real server', id);
      const b = bindings.get(id);
      if (b && b.length > 0) {
        const where = b[0].RuleId ? `the rule \`${b[0].RuleId}\`` : `the listener \`${b[0].ListenerId}\``;
        throw new ApiError('FailedOperation.RealServerAlreadyBound', `The real server \`${id}\` is bound to ${where}; unbind it first.`);
      }
    }
    for (const id of ids) {
      await ctx.tx.delete(KIND.realServer, id);
      await clearCounters(ctx.tx, 'realServer', id);
    }
    return {};
  },

  ModifyRealServerName: async (input: ModifyRealServerNameRequest, ctx) => {
    const rec = await ctx.tx.get<RealServerData>(KIND.realServer, input.RealServerId);
    if (!rec) throw resourceNotFound('real server', input.RealServerId);
    if (!input.RealServerName.trim()) throw invalidParameterValue('RealServerName', 'it cannot be empty');
    await ctx.tx.put({ ...rec, data: { ...rec.data, RealServerName: input.RealServerName } });
    return {};
  },

  /** Whether each real server is bound by a listener or a rule, and where. */
  DescribeRealServersStatus: async (input: DescribeRealServersStatusRequest, ctx) => {
    if (input.RealServerIds.length === 0) throw invalidParameterValue('RealServerIds', 'at least one real server ID is required');
    const bindings = await bindingsByServer(ctx.tx);
    const set = [];
    for (const id of [...new Set(input.RealServerIds)]) {
      if (!(await ctx.tx.get(KIND.realServer, id))) {
        throw new ApiError('InvalidParameterValue.RealServerNotBelong', `The real server \`${id}\` does not belong to the account.`);
      }
      const b = bindings.get(id)?.[0];
      set.push({ RealServerId: id, BindStatus: b ? 1 : 0, ProxyId: b?.ProxyId ?? '', GroupId: b?.GroupId || null });
    }
    return { TotalCount: set.length, RealServerStatusSet: set };
  },

  /**
   * Replaces the real servers of a TCP/UDP listener with exactly the given
   * set (none: unbind all). ListenerStatus is 3 until the change is applied.
   */
  BindListenerRealServers: async (input: BindListenerRealServersRequest, ctx) => {
    const rec = await getListener(ctx, input.ListenerId);
    const l = rec.data;
    if (l.Protocol !== 'TCP' && l.Protocol !== 'UDP') {
      throw invalidParameterValue('ListenerId', `the listener \`${l.ListenerId}\` is an ${l.Protocol} listener; real servers of HTTP/HTTPS listeners are bound to rules (BindRuleRealServers)`);
    }
    const set = await checkBindSet(ctx.tx, input.RealServerBindSet, {
      realServerType: String(l.RealServerType), addressMismatch: 'InvalidParameterValue', limit: LIMITS.realServersPerListener,
    });
    const owner = await ownerOf(ctx.tx, l);
    if (owner) assertOwnerRunning(owner, 'FailedOperation.InstanceStatusNotInRuning');
    assertListenerIdle(rec);
    await listenerLife.begin(ctx, rec, LISTENER.BINDING, LISTENER_T.settled, { ids: [l.ListenerId], from: LISTENER.BINDING }, { RealServerSet: set });
    return {};
  },

  /**
   * Bound real servers of a TCP/UDP listener, and the ones it could take:
   * every real server of the account of the listener's type (IP or DOMAIN).
   */
  DescribeListenerRealServers: async (input: DescribeListenerRealServersRequest, ctx) => {
    const { data: l } = await getListener(ctx, input.ListenerId);
    if (l.Protocol !== 'TCP' && l.Protocol !== 'UDP') {
      throw invalidParameterValue('ListenerId', `the listener \`${l.ListenerId}\` is an ${l.Protocol} listener; use DescribeRuleRealServers for its rules`);
    }
    const { items } = await ctx.tx.list<RealServerData>(KIND.realServer);
    const candidates = items.filter((r: ResourceRecord<RealServerData>) => realServerTypeOf(r.data) === l.RealServerType).map((r) => realServerView(r.data));
    const bound = (l.RealServerSet as BindRealServer[] | undefined) ?? [];
    return { TotalCount: candidates.length, RealServerSet: candidates, BindRealServerTotalCount: bound.length, BindRealServerSet: bound };
  },
} satisfies HandlerPart<GaapActions>;

export const transitions: Record<string, TransitionHandler> = {};

export function prepare(store: Store): void {
  store.ensureFieldIndex(KIND.realServer, 'ProjectId');
}
