/**
 * The forwarding view: what a traffic engine needs to know of GAAP's state
 * (proxies, their addresses and caps, running TCP/UDP listeners, their
 * origins, scheduling, health-check and security settings), typed and read
 * defensively from the stored records, and the way back: health and traffic
 * counters reported into the records and series the API answers from.
 *
 * GAAP knows nothing of sockets; the engine knows nothing of GAAP's records.
 */
import type { Store, StoreTx } from '../../store/types';
import { SCHEDULERS, type Scheduler } from './listener/model';
import { KIND } from './kinds';
import { proxyServes } from './proxy/model';
import { recordPoints, trimCounters, type CounterPoint } from './stats/model';
import type { RuleData } from './l7/model';

export type { CounterPoint } from './stats/model';

export type { Scheduler } from './listener/model';

export interface ForwardingProxy {
  proxyId: string;
  groupId: string | null;
  /** The proxy's access address (its `IP` in the API). */
  address: string;
  /** RUNNING (or adjusting) and not banned: traffic may flow. */
  serving: boolean;
  /** Mbps per direction, shared by the proxy's connections. */
  bandwidthMbps: number;
  /** Simultaneous connections (the API's Concurrent × 10,000). */
  maxConnections: number;
}

export interface ForwardingOrigin {
  realServerId: string;
  /** IP, or a domain name resolved at connect time. */
  address: string;
  port: number;
  weight: number;
  /** `master`/`slave` when the listener is in primary/backup mode, else ''. */
  role: string;
  /** Health as the record holds it (`RealServerStatus`, `DownIPList`): where the data plane starts from, and what it keeps the record in line with. */
  recorded: RecordedHealth;
}

export interface RecordedHealth {
  healthy: boolean;
  downIps: string[];
}

export interface HealthCheckSettings {
  enabled: boolean;
  /** Seconds between probes. */
  delayLoop: number;
  /** Seconds a probe may take. */
  connectTimeout: number;
  healthyThreshold: number;
  unhealthyThreshold: number;
  /** TCP listeners probe by connecting; UDP ones send a text (PORT) or ping (PING). */
  type: 'CONNECT' | 'PORT' | 'PING';
  /** UDP PORT probes: the port probed (0: the origin's port), the text sent, the reply expected ('' any). */
  checkPort: number;
  send: string;
  expect: string;
}

export interface SecurityRule {
  sourceCidr: string;
  /** TCP, UDP or ALL. */
  protocol: string;
  /** `ALL`, `80`, `80,443` or `3306-20000`. */
  ports: string;
  accept: boolean;
}

/** An opened security policy: rules in creation order, then the default. */
export interface SecurityPolicy {
  policyId: string;
  rules: SecurityRule[];
  defaultAccept: boolean;
}

export interface ForwardingListener {
  listenerId: string;
  protocol: 'TCP' | 'UDP';
  port: number;
  /** The proxy, or every member proxy of the group, whose address the listener binds. */
  proxyIds: string[];
  groupId: string | null;
  /** Created and not being deleted. */
  serving: boolean;
  scheduler: Scheduler;
  realServerType: 'IP' | 'DOMAIN';
  origins: ForwardingOrigin[];
  health: HealthCheckSettings;
  failover: boolean;
  /** Seconds of source-IP affinity; 0 none. */
  sessionPersist: number;
  /** 1: a PROXY protocol header precedes the client's bytes (TCP). */
  clientIpMethod: number;
  security: SecurityPolicy | null;
}

/** Record kinds the view is built from: commits touching none of them change nothing here. */
export const FORWARDING_KINDS: ReadonlySet<string> = new Set([
  KIND.proxy, KIND.group, KIND.listener, KIND.securityPolicy, KIND.securityRule,
]);

type Data = Record<string, unknown>;
const str = (v: unknown, d = ''): string => (typeof v === 'string' ? v : d);
const num = (v: unknown, d = 0): number => (typeof v === 'number' && Number.isFinite(v) ? v : typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v)) ? Number(v) : d);

/** ListenerStatus values of a listener that carries traffic: running, binding origins, changing settings. */
export const SERVING_LISTENER = new Set([0, 3, 4]);
/** A policy is enforced from the moment it is opened until it is closed. */
const ENFORCED_POLICY = new Set(['BINDING', 'BOUND']);

/** Documented defaults where a record lacks a value (older records, seeded state). */
const HEALTH_DEFAULTS = { delayLoop: 5, connectTimeout: 2, healthyThreshold: 3, unhealthyThreshold: 3 };

function proxyView(id: string, d: Data, status: string | null): ForwardingProxy {
  return {
    proxyId: id,
    groupId: str(d.GroupId) || null,
    address: str(d.IP),
    serving: proxyServes(status, d),
    bandwidthMbps: num(d.Bandwidth),
    maxConnections: num(d.Concurrent) * 10_000,
  };
}

export function originsOf(d: Data, fallbackPort: number | null): ForwardingOrigin[] {
  const set = Array.isArray(d.RealServerSet) ? (d.RealServerSet as Data[]) : [];
  const failover = num(d.FailoverSwitch) === 1;
  return set
    .filter((s) => s && typeof s === 'object')
    .map((s) => ({
      realServerId: str(s.RealServerId),
      address: str(s.RealServerIP),
      port: fallbackPort ?? num(s.RealServerPort),
      weight: num(s.RealServerWeight, 1),
      role: failover ? str(s.RealServerFailoverRole) : '',
      recorded: { healthy: num(s.RealServerStatus) !== 1, downIps: Array.isArray(s.DownIPList) ? (s.DownIPList as unknown[]).map(String) : [] },
    }))
    .filter((o) => o.address !== '' && o.port > 0);
}

function healthOf(d: Data, protocol: 'TCP' | 'UDP'): HealthCheckSettings {
  const type = protocol === 'TCP' ? 'CONNECT' : str(d.CheckType) === 'PORT' ? 'PORT' : 'PING';
  return {
    enabled: num(d.HealthCheck) === 1,
    delayLoop: num(d.DelayLoop, HEALTH_DEFAULTS.delayLoop) || HEALTH_DEFAULTS.delayLoop,
    connectTimeout: num(d.ConnectTimeout, HEALTH_DEFAULTS.connectTimeout) || HEALTH_DEFAULTS.connectTimeout,
    healthyThreshold: num(d.HealthyThreshold, HEALTH_DEFAULTS.healthyThreshold) || HEALTH_DEFAULTS.healthyThreshold,
    unhealthyThreshold: num(d.UnhealthyThreshold, HEALTH_DEFAULTS.unhealthyThreshold) || HEALTH_DEFAULTS.unhealthyThreshold,
    type,
    checkPort: num(d.CheckPort),
    send: str(d.SendContext),
    expect: str(d.RecvContext),
  };
}

export async function policies(tx: StoreTx): Promise<Map<string, SecurityPolicy>> {
  const byOwner = new Map<string, SecurityPolicy>();
  for (const p of (await tx.list<Data>(KIND.securityPolicy)).items) {
    if (!p.parent || !ENFORCED_POLICY.has(p.status ?? str(p.data.Status))) continue;
    const rules = (await tx.list<Data>(KIND.securityRule, { parent: p.id })).items.map(({ data: r }) => ({
      sourceCidr: str(r.SourceCidr),
      protocol: str(r.Protocol, 'ALL').toUpperCase(),
      ports: str(r.DestPortRange, 'ALL'),
      accept: str(r.Action).toUpperCase() !== 'DROP',
    }));
    byOwner.set(p.parent, { policyId: p.id, rules, defaultAccept: str(p.data.DefaultAction).toUpperCase() !== 'DROP' });
  }
  return byOwner;
}

/** Proxies that belong to each group, from the proxies' GroupId. */
export function groupMembers(proxies: Iterable<ForwardingProxy>): Map<string, string[]> {
  const members = new Map<string, string[]>();
  for (const p of proxies) {
    if (!p.groupId) continue;
    const list = members.get(p.groupId) ?? [];
    list.push(p.proxyId);
    members.set(p.groupId, list);
  }
  return members;
}

/** What a listener's view takes from other records: the members of its group and the policy of its owner. */
export interface ListenerContext {
  members(groupId: string): readonly string[];
  policy(ownerId: string): SecurityPolicy | null;
}

/** The id of the group or proxy whose security policy governs a listener. */
export const ownerOf = (groupId: string | null, proxyId: string | null): string => groupId ?? proxyId ?? '';

/** A TCP/UDP listener's view from its record; undefined for any other protocol. */
export function listenerView(id: string, d: Data, ctx: ListenerContext): ForwardingListener | undefined {
  const protocol = str(d.Protocol).toUpperCase();
  if (protocol !== 'TCP' && protocol !== 'UDP') return undefined;
  const groupId = str(d.GroupId) || null;
  const proxyId = str(d.ProxyId) || null;
  const proxyIds = groupId ? [...ctx.members(groupId)] : proxyId ? [proxyId] : [];
  // Listeners of groups and of version 1.0 proxies take the listener's RealServerPort for every origin.
  const listenerPort = num(d.RealServerPort);
  const scheduler = str(d.Scheduler, 'rr');
  return {
    listenerId: id,
    protocol,
    port: num(d.Port),
    proxyIds,
    groupId,
    serving: SERVING_LISTENER.has(num(d.ListenerStatus)),
    scheduler: SCHEDULERS.find((s) => s === scheduler) ?? 'rr',
    realServerType: str(d.RealServerType) === 'DOMAIN' ? 'DOMAIN' : 'IP',
    origins: originsOf(d, listenerPort > 0 ? listenerPort : null),
    health: healthOf(d, protocol),
    failover: num(d.FailoverSwitch) === 1,
    sessionPersist: num(d.SessionPersist),
    clientIpMethod: protocol === 'TCP' ? num(d.ClientIPMethod) : 0,
    security: ctx.policy(ownerOf(groupId, proxyId)),
  };
}

/** A proxy's view from its record. */
export const proxyRecordView = (r: { id: string; data: Data; status: string | null }): ForwardingProxy => proxyView(r.id, r.data, r.status);

/** The live health of one origin of a listener, as an engine reports it. */
export interface OriginHealth {
  realServerId: string;
  port: number;
  healthy: boolean;
  /** Domain origins: the resolved addresses that failed (`ip:port`). */
  downIps: string[];
  /** Domain origins: the name did not resolve at all. */
  unresolved?: boolean;
}

/** What an engine hands back: health flips and traffic counters, written where the API reads them. */
export interface TrafficSink {
  /** The current health of a listener's origins (reported when it changes). */
  reportHealth(account: string, listenerId: string, origins: readonly OriginHealth[]): Promise<void>;
  /** The current health of an HTTP/HTTPS rule's origins (reported when it changes). */
  reportRuleHealth(account: string, ruleId: string, origins: readonly OriginHealth[]): Promise<void>;
  /** Counter points (added, or kept as the minute's maximum or minimum). */
  recordCounters(account: string, points: readonly CounterPoint[]): Promise<void>;
}

/**
 * Writes health into the listener record in each structure's own encoding:
 * BindRealServer.RealServerStatus 0 normal / 1 abnormal; TCPListener.BindStatus
 * 1 normal / 0 abnormal; UDPListener.BindStatus 0 normal / 1 an address
 * abnormal / 2 a name that did not resolve.
 */
async function writeHealth(tx: StoreTx, listenerId: string, origins: readonly OriginHealth[]): Promise<void> {
  const rec = await tx.get<Data>(KIND.listener, listenerId);
  if (!rec || !Array.isArray(rec.data.RealServerSet)) return;
  const byKey = new Map(origins.map((o) => [`${o.realServerId}:${o.port}`, o]));
  const listenerPort = num(rec.data.RealServerPort);
  let changed = false;
  const set = (rec.data.RealServerSet as Data[]).map((s) => {
    const o = byKey.get(`${str(s.RealServerId)}:${listenerPort > 0 ? listenerPort : num(s.RealServerPort)}`);
    if (!o) return s;
    const status = o.healthy ? 0 : 1;
    const down = o.healthy ? [] : o.downIps;
    if (s.RealServerStatus === status && JSON.stringify(s.DownIPList ?? []) === JSON.stringify(down)) return s;
    changed = true;
    return { ...s, RealServerStatus: status, DownIPList: down };
  });
  const abnormal = set.filter((s) => s.RealServerStatus === 1);
  const protocol = str(rec.data.Protocol).toUpperCase();
  const bindStatus = protocol === 'TCP'
    ? (abnormal.length > 0 ? 0 : 1)
    : abnormal.length === 0 ? 0 : origins.some((o) => !o.healthy && o.unresolved) ? 2 : 1;
  if (!changed && rec.data.BindStatus === bindStatus) return;
  await tx.put({ ...rec, data: { ...rec.data, RealServerSet: set, BindStatus: bindStatus } });
}

/**
 * Writes a rule's origin health where DescribeRules and DescribeRuleRealServers
 * read it: BindRealServer.RealServerStatus 0 normal / 1 abnormal, DownIPList,
 * and RuleInfo.BindStatus 1 normal / 0 when any origin is abnormal.
 */
async function writeRuleHealth(tx: StoreTx, ruleId: string, origins: readonly OriginHealth[]): Promise<void> {
  const rec = await tx.get<RuleData>(KIND.rule, ruleId);
  if (!rec || !Array.isArray(rec.data.RealServerSet)) return;
  const byKey = new Map(origins.map((o) => [`${o.realServerId}:${o.port}`, o]));
  const set = rec.data.RealServerSet.map((s) => {
    const o = byKey.get(`${s.RealServerId}:${s.RealServerPort}`);
    return o ? { ...s, RealServerStatus: o.healthy ? 0 : 1, DownIPList: o.healthy ? [] : o.downIps } : s;
  });
  const bindStatus = set.some((s) => s.RealServerStatus === 1) ? 0 : 1;
  if (JSON.stringify(set) === JSON.stringify(rec.data.RealServerSet) && rec.data.BindStatus === bindStatus) return;
  await tx.put({ ...rec, data: { ...rec.data, RealServerSet: set, BindStatus: bindStatus } });
}

/** Points past retention are dropped at most this often. */
const TRIM_EVERY_MS = 3_600_000;

export function trafficSink(store: Store): TrafficSink {
  let trimmed = 0;
  return {
    reportHealth: (account, listenerId, origins) => store.transaction(account, (tx) => writeHealth(tx, listenerId, origins)),
    reportRuleHealth: (account, ruleId, origins) => store.transaction(account, (tx) => writeRuleHealth(tx, ruleId, origins)),
    recordCounters: async (account, points) => {
      await store.transaction(account, (tx) => recordPoints(tx, points));
      const now = Date.now();
      if (now - trimmed > TRIM_EVERY_MS) {
        trimmed = now;
        await trimCounters(store, Math.floor(now / 1000));
      }
    },
  };
}
