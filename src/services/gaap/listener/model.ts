import { ApiError, invalidParameterValue, resourceNotFound } from '../../../core/errors';
import type { TCPListener } from '../../../spec/gaap.types';
import type { ResourceRecord, StoreTx } from '../../../store/types';
import { checkEnum, checkFlag, checkInteger, checkPort } from '../../kit/checks';
import type { ActionContext } from '../../types';
import { lifecycle } from '../../kit/lifecycle';
import { KIND } from '../kinds';
import { startTask } from '../task/model';
import { clearCounters } from '../stats/model';

/**
 * Shared by the listener and real-server modules: listener statuses, the
 * owner (proxy or proxy group) of a listener, port spaces, health-check
 * ranges, paging and real-server addresses.
 */

/** Scheduled transitions of listeners. */
export const LISTENER_T = { settled: 'listener.settled', removed: 'listener.removed' } as const;

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

/** How a listener or rule picks an origin: round robin, weighted, least connections, lowest round-trip time. */
export const SCHEDULERS = ['rr', 'wrr', 'lc', 'lrtt'] as const;
export type Scheduler = (typeof SCHEDULERS)[number];

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

/**
 * A listener's ListenerStatus (in its data, and as text in the status
 * column); writes need it RUNNING (0). Every status but RUNNING settles by
 * the `listener.settled` task, or goes with `listener.removed`.
 */
export const listenerLife = lifecycle<number, ListenerData, (typeof LISTENER_T)[keyof typeof LISTENER_T]>({
  noun: 'listener',
  statuses: Object.values(LISTENER),
  busy: [LISTENER.CREATING, LISTENER.DESTROYING, LISTENER.BINDING, LISTENER.ADJUSTING],
  read: (rec) => {
    if (typeof rec.data.ListenerStatus === 'number') return rec.data.ListenerStatus;
    const n = Number(rec.status);
    return rec.status === null || Number.isNaN(n) ? LISTENER.RUNNING : n;
  },
  write: (data, status) => ({ ...data, ListenerStatus: status }),
  schedule: (ctx, transition, payload) => startTask(ctx, transition, payload),
});

/** Writes on a listener need it RUNNING; `code` is the busy code the action documents. */
export function assertListenerIdle(rec: ResourceRecord<ListenerData>, code = 'FailedOperation.ListenerHasTask'): void {
  listenerLife.assertIdle(rec, code);
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

/** A listener's port; a bad one is the code the create actions document. */
export const checkListenerPort = (name: string, port: number): void => checkPort(name, port, 'InvalidParameterValue.InvalidListenerPort');

export function duplicatedPort(port: number, ownerId: string, space: 'TCP' | 'UDP'): ApiError {
  return new ApiError('InvalidParameterValue.DuplicatedListenerPort', `The ${space} port ${port} is already used by a listener of \`${ownerId}\`.`);
}

export function checkListenerName(name: string): void {
  if (!name.trim() || [...name].length > LIMITS.listenerName) {
    throw invalidParameterValue('ListenerName', `expected 1 to ${LIMITS.listenerName} characters`);
  }
}

/** Health-check settings of a TCP/UDP listener, after merging a request into the stored values. */
export type HealthSettings = Pick<TCPListener, 'HealthCheck' | 'DelayLoop' | 'ConnectTimeout' | 'HealthyThreshold' | 'UnhealthyThreshold'>;

/** Ranges of the health-check settings, for TCP/UDP listeners and L7 rules alike (seconds and counts). */
export const HEALTH_RANGES = {
  DelayLoop: [5, 300],
  ConnectTimeout: [2, 60],
  HealthyThreshold: [1, 10],
  UnhealthyThreshold: [1, 10],
} as const;

/**
 * The probe timing of a health check: each given value in its range
 * (`prefix` names where it sits, `CheckParams.` for rules), and, with checks
 * on, a timeout no longer than the interval between probes.
 */
export function checkHealthTiming(prefix: string, given: { DelayLoop?: number; ConnectTimeout?: number }, merged: { DelayLoop: number; ConnectTimeout: number }, enabled: boolean): void {
  checkInteger(`${prefix}DelayLoop`, given.DelayLoop, ...HEALTH_RANGES.DelayLoop);
  checkInteger(`${prefix}ConnectTimeout`, given.ConnectTimeout, ...HEALTH_RANGES.ConnectTimeout);
  // The text says "less than"; the document's own CreateTCPListeners example sends them equal.
  if (enabled && merged.ConnectTimeout > merged.DelayLoop) {
    throw invalidParameterValue(`${prefix}ConnectTimeout`, `it may not exceed DelayLoop (${merged.DelayLoop})`);
  }
}

/** Checks each given value's range, then the relation of the merged values. */
export function checkHealth(given: Partial<HealthSettings>, merged: HealthSettings): void {
  checkFlag('HealthCheck', given.HealthCheck);
  checkHealthTiming('', given, merged, merged.HealthCheck === 1);
  checkInteger('HealthyThreshold', given.HealthyThreshold, ...HEALTH_RANGES.HealthyThreshold);
  checkInteger('UnhealthyThreshold', given.UnhealthyThreshold, ...HEALTH_RANGES.UnhealthyThreshold);
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

/** Records of `kind` (rules, L7 domains, error pages) under any of the listeners, found by parent and by data.ListenerId. */
export async function underListeners(tx: StoreTx, kind: string, listenerIds: string[]): Promise<ResourceRecord[]> {
  if (listenerIds.length === 0) return [];
  const byId = new Map<string, ResourceRecord>();
  for (const r of (await tx.list(kind, { where: [{ field: 'ListenerId', values: listenerIds }] })).items) byId.set(r.id, r);
  for (const id of listenerIds) for (const r of (await tx.list(kind, { parent: id })).items) byId.set(r.id, r);
  return [...byId.values()];
}

/**
 * The one way listeners go, whoever deletes them (DeleteListeners, a proxy's
 * or a group's destruction): their rules, L7 domains and error pages, the
 * listeners, and the listeners' statistics counters.
 */
export async function removeListeners(tx: StoreTx, listenerIds: string[]): Promise<void> {
  for (const kind of [KIND.rule, KIND.domain, KIND.errorPage]) {
    for (const r of await underListeners(tx, kind, listenerIds)) await tx.delete(kind, r.id);
  }
  for (const id of listenerIds) {
    await tx.delete(KIND.listener, id);
    await clearCounters(tx, 'listener', id);
  }
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

/** True when a listener of the proxy/group, or a rule under one, has real servers bound. */
export async function ownerHasBoundRealServers(tx: StoreTx, ownerId: string, field: 'ProxyId' | 'GroupId'): Promise<boolean> {
  const listeners = await listenersOf(tx, ownerId, field);
  if (listeners.some((l) => hasBoundRealServers(l.data))) return true;
  const rules = await underListeners(tx, KIND.rule, listeners.map((l) => l.id));
  return rules.some((r) => hasBoundRealServers(r.data));
}

/** Removes the listeners of a proxy/group with everything under them. */
export async function removeListenersOf(tx: StoreTx, ownerId: string, field: 'ProxyId' | 'GroupId'): Promise<void> {
  await removeListeners(tx, (await listenersOf(tx, ownerId, field)).map((l) => l.id));
}

/** The TLS checks, for the L7 domains that carry TLS settings of their own. */
export { checkTlsCiphers, checkTlsVersions } from './tls';
