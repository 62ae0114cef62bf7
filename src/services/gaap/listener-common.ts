import { isIP } from 'node:net';
import { ApiError, invalidParameterValue, resourceNotFound } from '../../core/errors';
import type { BindRealServer, RealServer, TagPair, TCPListener } from '../../spec/gaap.types';
import type { ResourceRecord, StoreTx } from '../../store/types';
import type { ActionContext } from '../types';
import { KIND } from './model';

/**
 * Shared by the listener and real-server modules: listener statuses, the
 * owner (proxy or proxy group) of a listener, port spaces, health-check
 * ranges, paging and real-server addresses.
 */

/** ListenerStatus (identical for TCP/UDP/HTTP/HTTPS). */
export const LISTENER = {
  RUNNING: 0,
  CREATING: 1,
  DESTROYING: 2,
  /** Real servers being bound or unbound. */
  BINDING: 3,
  /** Configuration change in progress. */
  ADJUSTING: 4,
} as const;

export type Protocol = 'TCP' | 'UDP' | 'HTTP' | 'HTTPS';

/** Limits the API document names by error code but does not number. */
export const LIMITS = {
  /** Listeners per proxy or group (FailedOperation.LimitNumofListener). */
  listenersPerOwner: 100,
  /** Ports in one CreateTCPListeners / CreateUDPListeners call (FailedOperation.OperateLimitNumofListener). */
  portsPerCall: 20,
  /** Real servers bound to one listener (FailedOperation.LimitRealServerNum). */
  realServersPerListener: 100,
  /** Listener name length, as the providers that manage listeners validate it. */
  listenerName: 30,
} as const;

export const SCHEDULERS: readonly string[] = ['rr', 'wrr', 'lc', 'lrtt'];

/** Fields every listener record's data carries, whatever its protocol. */
export interface ListenerData {
  ListenerId: string;
  ListenerName: string;
  Port: number;
  Protocol: Protocol;
  ListenerStatus: number;
  CreateTime: number;
  ProxyId: string | null;
  GroupId: string | null;
  [field: string]: unknown;
}

/** A real-server record: the API's RealServer plus its tags and address type. */
export interface RealServerData extends RealServer {
  TagSet: TagPair[];
  /** IP or DOMAIN, decided from the address when the real server is added. */
  RealServerType?: string;
}

/** The RealServer view of a real-server record (what listeners and rules can bind). */
export const realServerView = (rs: RealServerData): RealServer => ({
  RealServerIP: rs.RealServerIP,
  RealServerId: rs.RealServerId,
  RealServerName: rs.RealServerName,
  ProjectId: rs.ProjectId,
  InBanBlacklist: rs.InBanBlacklist ?? 0,
});

/** The proxy or proxy group a listener belongs to. */
export interface Owner {
  type: 'proxy' | 'group';
  id: string;
  rec: ResourceRecord<Record<string, unknown>>;
}

/** Resolves ProxyId / GroupId of a request (never both); `required` demands one of them. */
export async function resolveOwner(
  ctx: ActionContext,
  input: { ProxyId?: string; GroupId?: string },
  required: boolean,
): Promise<Owner | undefined> {
  const { ProxyId, GroupId } = input;
  if (ProxyId && GroupId) throw new ApiError('InvalidParameterValue', 'The parameters `ProxyId` and `GroupId` cannot be set at the same time.');
  if (ProxyId) {
    const rec = await ctx.tx.get<Record<string, unknown>>(KIND.proxy, ProxyId);
    if (!rec) throw resourceNotFound('proxy', ProxyId);
    return { type: 'proxy', id: ProxyId, rec };
  }
  if (GroupId) {
    const rec = await ctx.tx.get<Record<string, unknown>>(KIND.group, GroupId);
    if (!rec) throw resourceNotFound('proxy group', GroupId);
    return { type: 'group', id: GroupId, rec };
  }
  if (required) throw new ApiError('MissingParameter', 'The request must set one of the parameters `ProxyId` and `GroupId`.');
  return undefined;
}

/** The owner of an existing listener (undefined when the proxy or group is gone). */
export async function ownerOf(tx: StoreTx, l: ListenerData): Promise<Owner | undefined> {
  if (l.GroupId) {
    const rec = await tx.get<Record<string, unknown>>(KIND.group, l.GroupId);
    return rec && { type: 'group', id: l.GroupId, rec };
  }
  if (l.ProxyId) {
    const rec = await tx.get<Record<string, unknown>>(KIND.proxy, l.ProxyId);
    return rec && { type: 'proxy', id: l.ProxyId, rec };
  }
  return undefined;
}

function ownerStatus(o: Owner): string {
  const s = o.rec.status ?? (o.rec.data as { Status?: unknown }).Status;
  return s === 0 ? 'RUNNING' : String(s ?? '');
}

/**
 * Listener writes need a RUNNING proxy or group; `proxyCode` is the code the
 * action documents for a proxy (ProxyStatusNotInRuning when adding a
 * listener, InstanceStatusNotInRuning elsewhere).
 */
export function assertOwnerRunning(o: Owner, proxyCode: string): void {
  const status = ownerStatus(o);
  if (status === 'RUNNING') return;
  if (o.type === 'group') {
    throw new ApiError('FailedOperation.GroupStatusNotInRuning', `The proxy group \`${o.id}\` is not running (status ${status}).`);
  }
  throw new ApiError(proxyCode, `The proxy \`${o.id}\` is not running (status ${status}).`);
}

/** Checks that a request's ProxyId / GroupId, when given, names the listener's owner. */
export function assertBelongs(l: ListenerData, input: { ProxyId?: string; GroupId?: string }): void {
  if (input.ProxyId && input.ProxyId !== l.ProxyId) {
    throw invalidParameterValue('ProxyId', `the listener \`${l.ListenerId}\` does not belong to the proxy \`${input.ProxyId}\``);
  }
  if (input.GroupId && input.GroupId !== l.GroupId) {
    throw invalidParameterValue('GroupId', `the listener \`${l.ListenerId}\` does not belong to the proxy group \`${input.GroupId}\``);
  }
}

export async function getListener(ctx: ActionContext, id: string): Promise<ResourceRecord<ListenerData>> {
  const rec = await ctx.tx.get<ListenerData>(KIND.listener, id);
  if (!rec) throw resourceNotFound('listener', id);
  return rec;
}

/** Writes on a listener need it RUNNING (0); `code` is the busy code the action documents. */
export function assertListenerIdle(l: ListenerData, code = 'FailedOperation.ListenerHasTask'): void {
  if (l.ListenerStatus !== LISTENER.RUNNING) {
    throw new ApiError(code, `The listener \`${l.ListenerId}\` has an operation in progress (ListenerStatus ${l.ListenerStatus}).`);
  }
}

/** Saves a listener with a new ListenerStatus (kept in data and in the status column). */
export async function saveListener(tx: StoreTx, rec: ResourceRecord<ListenerData>, data: ListenerData): Promise<void> {
  await tx.put({ ...rec, status: String(data.ListenerStatus), data });
}

/** Ports taken in the owner's TCP space (TCP, HTTP, HTTPS) and UDP space (UDP, HTTPS with HTTP/3). */
export async function usedPorts(tx: StoreTx, ownerId: string): Promise<{ tcp: Set<number>; udp: Set<number>; count: number }> {
  const { items } = await tx.list<ListenerData>(KIND.listener, { parent: ownerId });
  const tcp = new Set<number>();
  const udp = new Set<number>();
  for (const { data } of items) {
    if (data.Protocol === 'UDP') udp.add(data.Port);
    else tcp.add(data.Port);
    if (data.Protocol === 'HTTPS' && data.Http3Supported === 1) udp.add(data.Port);
  }
  return { tcp, udp, count: items.length };
}

export function checkPort(name: string, port: number): void {
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new ApiError('InvalidParameterValue.InvalidListenerPort', `The value of parameter \`${name}\` is not valid: the port ${port} is not usable (expected 1 to 65535).`);
  }
}

export function duplicatedPort(port: number, ownerId: string, space: 'TCP' | 'UDP'): ApiError {
  return new ApiError('InvalidParameterValue.DuplicatedListenerPort', `The ${space} port ${port} is already used by a listener of \`${ownerId}\`.`);
}

export function checkListenerName(name: string): void {
  if (!name.trim() || [...name].length > LIMITS.listenerName) {
    throw invalidParameterValue('ListenerName', `expected 1 to ${LIMITS.listenerName} characters`);
  }
}

export function checkRange(name: string, value: number | undefined, min: number, max: number): void {
  if (value === undefined) return;
  if (!Number.isInteger(value) || value < min || value > max) throw invalidParameterValue(name, `expected an integer between ${min} and ${max}`);
}

export function checkEnum(name: string, value: string | number | undefined, allowed: ReadonlyArray<string | number>): void {
  if (value === undefined) return;
  if (!allowed.includes(value)) throw invalidParameterValue(name, `expected one of ${allowed.join(', ')}`);
}

/** Health-check settings of a TCP/UDP listener, after merging a request into the stored values. */
export type HealthSettings = Pick<TCPListener, 'HealthCheck' | 'DelayLoop' | 'ConnectTimeout' | 'HealthyThreshold' | 'UnhealthyThreshold'>;

/** Checks each given value's range, then the relation of the merged values. */
export function checkHealth(given: Partial<HealthSettings>, merged: HealthSettings): void {
  checkEnum('HealthCheck', given.HealthCheck, [0, 1]);
  checkRange('DelayLoop', given.DelayLoop, 5, 300);
  checkRange('ConnectTimeout', given.ConnectTimeout, 2, 60);
  checkRange('HealthyThreshold', given.HealthyThreshold, 1, 10);
  checkRange('UnhealthyThreshold', given.UnhealthyThreshold, 1, 10);
  // The text says "less than"; the document's own CreateTCPListeners example sends them equal.
  if (merged.HealthCheck === 1 && merged.ConnectTimeout > merged.DelayLoop) {
    throw invalidParameterValue('ConnectTimeout', `it may not exceed DelayLoop (${merged.DelayLoop})`);
  }
}

/** Scheduler and FailoverSwitch against the listener's real-server type. */
export function checkScheduling(realServerType: string, scheduler: string | undefined, failoverSwitch: number | undefined): void {
  checkEnum('Scheduler', scheduler, SCHEDULERS);
  checkEnum('FailoverSwitch', failoverSwitch, [0, 1]);
  if (realServerType === 'DOMAIN') {
    if (scheduler === 'wrr' || scheduler === 'lrtt') {
      throw invalidParameterValue('Scheduler', `\`${scheduler}\` is not supported when RealServerType is DOMAIN`);
    }
    if (failoverSwitch === 1) throw invalidParameterValue('FailoverSwitch', 'the primary/backup mode is not supported when RealServerType is DOMAIN');
  }
}

/** Offset / Limit of a Describe call, with the documented defaults. */
export function paging(input: { Offset?: number; Limit?: number }, max?: number): { offset: number; limit: number } {
  const offset = input.Offset ?? 0;
  const limit = input.Limit ?? 20;
  if (!Number.isInteger(offset) || offset < 0) throw invalidParameterValue('Offset', 'expected a non-negative integer');
  if (!Number.isInteger(limit) || limit < 0) throw invalidParameterValue('Limit', 'expected a non-negative integer');
  if (max !== undefined && limit > max) throw invalidParameterValue('Limit', `expected at most ${max}`);
  return { offset, limit };
}

const DOMAIN = /^(?=.{1,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z][a-z0-9-]{0,61}[a-z0-9]$/i;

/** IP or DOMAIN for a real-server address; undefined when it is neither. */
export function addressType(address: string): 'IP' | 'DOMAIN' | undefined {
  if (isIP(address)) return 'IP';
  if (DOMAIN.test(address)) return 'DOMAIN';
  return undefined;
}

/** Where a real server is bound: one entry per listener or rule binding. */
export interface Binding {
  ListenerId: string;
  RuleId?: string;
  ProxyId: string | null;
  GroupId: string | null;
}

/** Every binding of the account's real servers, by real-server id (listeners and L7 rules). */
export async function bindingsByServer(tx: StoreTx): Promise<Map<string, Binding[]>> {
  const out = new Map<string, Binding[]>();
  const add = (rsId: string, b: Binding) => {
    const list = out.get(rsId);
    if (list) list.push(b);
    else out.set(rsId, [b]);
  };
  const listeners = new Map<string, ListenerData>();
  for (const { data } of (await tx.list<ListenerData>(KIND.listener)).items) {
    listeners.set(data.ListenerId, data);
    for (const s of (data.RealServerSet as BindRealServer[] | undefined) ?? []) {
      add(s.RealServerId, { ListenerId: data.ListenerId, ProxyId: data.ProxyId, GroupId: data.GroupId });
    }
  }
  for (const rule of (await tx.list<Record<string, unknown>>(KIND.rule)).items) {
    const set = rule.data.RealServerSet;
    if (!Array.isArray(set) || set.length === 0) continue;
    const listenerId = String(rule.data.ListenerId ?? rule.parent ?? '');
    const l = listeners.get(listenerId);
    for (const s of set as Array<{ RealServerId?: string }>) {
      if (!s?.RealServerId) continue;
      add(s.RealServerId, { ListenerId: listenerId, RuleId: rule.id, ProxyId: l?.ProxyId ?? null, GroupId: l?.GroupId ?? null });
    }
  }
  return out;
}
