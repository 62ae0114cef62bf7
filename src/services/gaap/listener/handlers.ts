import { ApiError, invalidParameterValue } from '../../../core/errors';
import { resourceId } from '../../../core/ids';
import type {
  BindRealServer,
  CreateHTTPListenerRequest,
  CreateHTTPSListenerRequest,
  CreateTCPListenersRequest,
  CreateUDPListenersRequest,
  DeleteListenersRequest,
  DescribeHTTPListenersRequest,
  DescribeHTTPSListenersRequest,
  DescribeTCPListenersRequest,
  DescribeUDPListenersRequest,
  GaapActions,
  ModifyHTTPListenerAttributeRequest,
  ModifyHTTPSListenerAttributeRequest,
  ModifyTCPListenerAttributeRequest,
  ModifyUDPListenerAttributeRequest,
  SetTlsVersionRequest,
  HTTPListener,
  HTTPSListener,
  TCPListener,
  UDPListener,
} from '../../../spec/gaap.types';
import type { ResourceRecord, Store, StoreTx } from '../../../store/types';
import type { ActionContext, HandlerPart, TransitionHandler } from '../../types';
import {
  LIMITS,
  LISTENER,
  assertBelongs,
  assertListenerIdle,
  assertOwnerRunning,
  checkHealth,
  checkListenerName,
  checkListenerPort,
  checkScheduling,
  duplicatedPort,
  getListener,
  resolveOwner,
  listenerLife,
  usedPorts,
  type HealthSettings,
  type ListenerData,
  type Owner,
  type Protocol,
  removeListeners,
  LISTENER_T,
} from './model';
import { DEFAULT_TLS, checkTlsCiphers, checkTlsVersions } from './tls';
import { checkEnum } from '../../kit/checks';
import { paging } from '../../kit/paging';
import { KIND, unixSeconds } from '../kinds';
import { startTask } from '../task/model';

/**
 * Listeners (TCP / UDP / HTTP / HTTPS) of a proxy or a proxy group. Every
 * write goes through a transient ListenerStatus (1 creating, 2 destroying,
 * 4 changing; 3 binding lives in the real-server module) that a scheduled
 * transition brings back to 0; the call's RequestId is the task.
 */


/** Health-check values of a new TCP/UDP listener when the request leaves them out. */
const HEALTH_DEFAULTS: HealthSettings = { HealthCheck: 0, DelayLoop: 5, ConnectTimeout: 2, HealthyThreshold: 1, UnhealthyThreshold: 1 };

/** CertificateType of server (SSL) and client CA certificates. */
const CERT_SERVER = 2;
const CERT_CLIENT = 1;

async function settle(ctx: ActionContext, ids: string[], from: number): Promise<void> {
  await startTask(ctx, LISTENER_T.settled, { ids, from });
}

function ownerFields(o: Owner, protocol: Protocol): { ProxyId: string; GroupId: string | null } {
  if (o.type === 'group') return { ProxyId: '', GroupId: o.id };
  // UDPListener.GroupId is not nullable; the other structures document null.
  return { ProxyId: o.id, GroupId: protocol === 'UDP' ? '' : null };
}

function isV1(o: Owner): boolean {
  return o.type === 'proxy' && o.rec.data.Version === '1.0';
}

function wrongProtocol(l: ListenerData, expected: Protocol): ApiError {
  return invalidParameterValue('ListenerId', `the listener \`${l.ListenerId}\` is a ${l.Protocol} listener, not ${expected}`);
}

/** Checks that a new listener may take these ports, in which space, under that owner. */
async function reservePorts(tx: StoreTx, owner: Owner, ports: number[], spaces: { tcp: boolean; udp: boolean }): Promise<void> {
  const used = await usedPorts(tx, owner.id);
  if (used.count + ports.length > LIMITS.listenersPerOwner) {
    throw new ApiError('FailedOperation.LimitNumofListener', `The ${owner.type === 'group' ? 'proxy group' : 'proxy'} \`${owner.id}\` may have at most ${LIMITS.listenersPerOwner} listeners.`);
  }
  for (const p of ports) {
    if (spaces.tcp && used.tcp.has(p)) throw duplicatedPort(p, owner.id, 'TCP');
    if (spaces.udp && used.udp.has(p)) throw duplicatedPort(p, owner.id, 'UDP');
  }
}

async function createLayer4(ctx: ActionContext, protocol: 'TCP' | 'UDP', input: CreateTCPListenersRequest & CreateUDPListenersRequest): Promise<{ ListenerIds: string[] }> {
  checkListenerName(input.ListenerName);
  const ports = input.Ports;
  if (ports.length === 0) throw invalidParameterValue('Ports', 'at least one port is required');
  if (ports.length > LIMITS.portsPerCall) {
    throw new ApiError('FailedOperation.OperateLimitNumofListener', `At most ${LIMITS.portsPerCall} ports may be given in one call; \`Ports\` has ${ports.length}.`);
  }
  ports.forEach((p, i) => checkListenerPort(`Ports.${i}`, p));
  const seen = new Set<number>();
  for (const p of ports) {
    if (seen.has(p)) throw new ApiError('InvalidParameterValue.DuplicatedListenerPort', `The port ${p} appears more than once in \`Ports\`.`);
    seen.add(p);
  }
  checkEnum('RealServerType', input.RealServerType, ['IP', 'DOMAIN']);
  checkScheduling(input.RealServerType, input.Scheduler, input.FailoverSwitch);
  const given: Partial<HealthSettings> = {
    HealthCheck: input.HealthCheck, DelayLoop: input.DelayLoop, ConnectTimeout: input.ConnectTimeout,
    HealthyThreshold: input.HealthyThreshold, UnhealthyThreshold: input.UnhealthyThreshold,
  };
  const health: HealthSettings = { ...HEALTH_DEFAULTS };
  for (const [k, v] of Object.entries(given)) if (v !== undefined) health[k as keyof HealthSettings] = v;
  checkHealth(given, health);
  if (protocol === 'TCP') checkEnum('ClientIPMethod', input.ClientIPMethod, [0, 1]);
  const udpCheck = protocol === 'UDP' ? udpCheckSettings(input, health.HealthCheck, undefined) : undefined;

  const owner = (await resolveOwner(ctx, input, true))!;
  if (input.RealServerPorts && input.RealServerPorts.length > 0) {
    if (owner.type === 'proxy' && !isV1(owner)) {
      throw invalidParameterValue('RealServerPorts', 'it is only supported for listeners of proxy groups and of version 1.0 proxies');
    }
    if (input.RealServerPorts.length !== ports.length) throw invalidParameterValue('RealServerPorts', 'it must have one port per entry of `Ports`');
    input.RealServerPorts.forEach((p, i) => {
      if (!Number.isInteger(p) || p < 1 || p > 65535) throw invalidParameterValue(`RealServerPorts.${i}`, 'expected a port between 1 and 65535');
    });
  }
  assertOwnerRunning(owner, protocol === 'TCP' ? 'FailedOperation.ProxyStatusNotInRuning' : 'FailedOperation.InstanceStatusNotInRuning');
  await reservePorts(ctx.tx, owner, ports, { tcp: protocol === 'TCP', udp: protocol === 'UDP' });

  const ids: string[] = [];
  for (let i = 0; i < ports.length; i++) {
    const id = resourceId('listener');
    const rsPort = input.RealServerPorts?.[i];
    const common = {
      ListenerId: id,
      ListenerName: input.ListenerName,
      Port: ports[i],
      RealServerType: input.RealServerType,
      Protocol: protocol,
      ListenerStatus: LISTENER.CREATING,
      Scheduler: input.Scheduler,
      RealServerSet: [] as BindRealServer[],
      CreateTime: unixSeconds(ctx.now),
      SessionPersist: 0,
      FailoverSwitch: input.FailoverSwitch ?? 0,
      ...health,
      ...ownerFields(owner, protocol),
    };
    const data: ListenerData =
      protocol === 'TCP'
        ? { ...common, RealServerPort: rsPort ?? null, BindStatus: 1, ClientIPMethod: input.ClientIPMethod ?? 0 }
        : { ...common, RealServerPort: rsPort ?? 0, BindStatus: 0, ...udpCheck };
    await ctx.tx.put({ kind: KIND.listener, id, parent: owner.id, status: String(data.ListenerStatus), createdAt: ctx.now, data });
    ids.push(id);
  }
  await settle(ctx, ids, LISTENER.CREATING);
  return { ListenerIds: ids };
}

/** The UDP probe fields of a UDP listener. */
type UdpCheck = Pick<UDPListener, 'CheckType' | 'CheckPort' | 'ContextType' | 'SendContext' | 'RecvContext'>;

/** UDP probe settings: PING or PORT; the port and the probe texts are kept only for PORT. */
function udpCheckSettings(
  input: Partial<UdpCheck>,
  healthCheck: number,
  current: UdpCheck | undefined,
): UdpCheck {
  checkEnum('CheckType', input.CheckType, ['PORT', 'PING']);
  const type = input.CheckType ?? (current?.CheckType || (healthCheck === 1 ? 'PING' : ''));
  if (type !== 'PORT') return { CheckType: type, CheckPort: 0, ContextType: '', SendContext: '', RecvContext: '' };
  checkEnum('ContextType', input.ContextType, ['TEXT']);
  if (input.CheckPort !== undefined && (!Number.isInteger(input.CheckPort) || input.CheckPort < 1 || input.CheckPort > 65535)) {
    throw invalidParameterValue('CheckPort', 'expected a port between 1 and 65535');
  }
  const port = input.CheckPort ?? (current && current.CheckPort > 0 ? current.CheckPort : undefined);
  if (port === undefined) throw invalidParameterValue('CheckPort', 'it is required when CheckType is PORT');
  return {
    CheckType: 'PORT',
    CheckPort: port,
    ContextType: input.ContextType ?? (current?.ContextType || 'TEXT'),
    SendContext: input.SendContext ?? current?.SendContext ?? '',
    RecvContext: input.RecvContext ?? current?.RecvContext ?? '',
  };
}

async function createLayer7(ctx: ActionContext, protocol: 'HTTP' | 'HTTPS', input: CreateHTTPListenerRequest & Partial<CreateHTTPSListenerRequest>): Promise<{ ListenerId: string }> {
  checkListenerName(input.ListenerName);
  checkListenerPort('Port', input.Port);
  let extra: Record<string, unknown> = {};
  const http3 = input.Http3Supported ?? 0;
  if (protocol === 'HTTPS') {
    checkEnum('ForwardProtocol', input.ForwardProtocol, ['HTTP', 'HTTPS']);
    checkEnum('AuthType', input.AuthType, [0, 1]);
    checkEnum('Http3Supported', input.Http3Supported, [0, 1]);
    const authType = input.AuthType ?? 0;
    const clientIds = clientCertificateIds(input.ClientCertificateId, input.PolyClientCertificateIds);
    if (authType === 0 && clientIds.length > 0) {
      throw invalidParameterValue('PolyClientCertificateIds', 'client CA certificates are only used with mutual authentication (AuthType 1)');
    }
    if (authType === 1 && clientIds.length === 0) {
      throw invalidParameterValue('ClientCertificateId', 'mutual authentication (AuthType 1) needs a client CA certificate (`ClientCertificateId` or `PolyClientCertificateIds`)');
    }
    const server = await certificate(ctx, 'CertificateId', input.CertificateId!, CERT_SERVER, 'InvalidParameterValue.InvalidCertificateId');
    const clients = [];
    for (const id of clientIds) clients.push(await certificate(ctx, 'ClientCertificateId', id, CERT_CLIENT, 'InvalidParameterValue.InvalidCertificateId'));
    extra = {
      CertificateId: server.CertificateId,
      CertificateAlias: server.CertificateAlias,
      ForwardProtocol: input.ForwardProtocol,
      AuthType: authType,
      ClientCertificateId: clients[0]?.CertificateId ?? null,
      ClientCertificateAlias: clients[0]?.CertificateAlias ?? null,
      PolyClientCertificateAliasInfo: clients,
      Http3Supported: http3,
      ...DEFAULT_TLS,
    };
  }
  const owner = (await resolveOwner(ctx, input, true))!;
  if (http3 === 1 && owner.rec.data.Http3Supported === 0) {
    throw invalidParameterValue('Http3Supported', `the ${owner.type === 'group' ? 'proxy group' : 'proxy'} \`${owner.id}\` does not support HTTP/3`);
  }
  assertOwnerRunning(owner, 'FailedOperation.ProxyStatusNotInRuning');
  await reservePorts(ctx.tx, owner, [input.Port], { tcp: true, udp: protocol === 'HTTPS' && http3 === 1 });

  const id = resourceId('listener');
  const data: ListenerData = {
    ListenerId: id,
    ListenerName: input.ListenerName,
    Port: input.Port,
    Protocol: protocol,
    ListenerStatus: LISTENER.CREATING,
    CreateTime: unixSeconds(ctx.now),
    ...extra,
    ...ownerFields(owner, protocol),
  };
  await ctx.tx.put({ kind: KIND.listener, id, parent: owner.id, status: String(data.ListenerStatus), createdAt: ctx.now, data });
  await settle(ctx, [id], LISTENER.CREATING);
  return { ListenerId: id };
}

function clientCertificateIds(single: string | undefined, poly: string[] | undefined): string[] {
  const ids = [...(single ? [single] : []), ...(poly ?? [])];
  return [...new Set(ids)];
}

/**
 * A certificate of the account that the listener may use. Records whose
 * CertificateType is not stored as a number are accepted as any type.
 */
async function certificate(ctx: ActionContext, param: string, id: string, type: number, code: string): Promise<{ CertificateId: string; CertificateAlias: string }> {
  const rec = await ctx.tx.get<Record<string, unknown>>(KIND.certificate, id);
  if (!rec) throw new ApiError(code, `The value of parameter \`${param}\` is not valid: the certificate \`${id}\` does not exist.`);
  const t = rec.data.CertificateType;
  if (typeof t === 'number' && t !== type) {
    const what = type === CERT_SERVER ? 'a server SSL certificate (type 2)' : 'a client CA certificate (type 1)';
    throw new ApiError(code, `The value of parameter \`${param}\` is not valid: the certificate \`${id}\` is of type ${t}, expected ${what}.`);
  }
  return { CertificateId: id, CertificateAlias: aliasOf(rec.data) };
}

function aliasOf(cert: Record<string, unknown>): string {
  const a = cert.CertificateAlias ?? cert.CertificateName;
  return typeof a === 'string' ? a : '';
}

/** HTTPS listeners show the certificates' current aliases. */
async function withCurrentAliases(tx: StoreTx, l: ListenerData): Promise<ListenerData> {
  const alias = async (id: unknown, fallback: unknown) => {
    if (typeof id !== 'string' || !id) return fallback;
    const rec = await tx.get<Record<string, unknown>>(KIND.certificate, id);
    return rec ? aliasOf(rec.data) : fallback;
  };
  const poly = (l.PolyClientCertificateAliasInfo as Array<{ CertificateId: string; CertificateAlias: string }> | undefined) ?? [];
  const infos = [];
  for (const p of poly) infos.push({ CertificateId: p.CertificateId, CertificateAlias: String(await alias(p.CertificateId, p.CertificateAlias)) });
  return {
    ...l,
    CertificateAlias: await alias(l.CertificateId, l.CertificateAlias ?? ''),
    ClientCertificateAlias: l.ClientCertificateId ? await alias(l.ClientCertificateId, l.ClientCertificateAlias ?? null) : null,
    PolyClientCertificateAliasInfo: infos,
  };
}

/**
 * The four Describe*Listeners calls. A ListenerId that does not exist, or is
 * of another protocol, gives an empty list (it is a filter); with ProxyId or
 * GroupId it must belong to that owner.
 */
/** A listener record of each protocol is stored in the shape its Describe action answers. */
interface StoredListener {
  TCP: TCPListener;
  UDP: UDPListener;
  HTTP: HTTPListener;
  HTTPS: HTTPSListener;
}

async function describe<P extends Protocol>(ctx: ActionContext, protocol: P, input: DescribeHTTPSListenersRequest): Promise<{ TotalCount: number; ListenerSet: Array<StoredListener[P]> }> {
  if (!input.ListenerId && !input.ProxyId && !input.GroupId) {
    throw new ApiError('MissingParameter', 'The request must set at least one of the parameters `ListenerId`, `ProxyId` and `GroupId`.');
  }
  if (input.SearchValue !== undefined && (input.ListenerName !== undefined || input.Port !== undefined)) {
    throw invalidParameterValue('SearchValue', 'it cannot be combined with `ListenerName` or `Port`');
  }
  checkEnum('Http3Supported', input.Http3Supported, [0, 1]);
  const { offset, limit } = paging(input);
  const owner = await resolveOwner(ctx, input, false);

  let matches: ResourceRecord<ListenerData>[];
  let total: number;
  const filter = (l: ListenerData) =>
    l.Protocol === protocol &&
    (input.ListenerName === undefined || l.ListenerName === input.ListenerName) &&
    (input.Port === undefined || l.Port === input.Port) &&
    (input.Http3Supported === undefined || l.Http3Supported === input.Http3Supported) &&
    (input.SearchValue === undefined || String(l.Port).includes(input.SearchValue) || l.ListenerName.includes(input.SearchValue));

  if (input.ListenerId) {
    const rec = await ctx.tx.get<ListenerData>(KIND.listener, input.ListenerId);
    if (rec && owner) assertBelongs(rec.data, input);
    const all = rec && filter(rec.data) ? [rec] : [];
    total = all.length;
    matches = all.slice(offset, offset + limit);
  } else if (input.SearchValue !== undefined) {
    const { items } = await ctx.tx.list<ListenerData>(KIND.listener, { parent: owner!.id, where: [{ field: 'Protocol', values: [protocol] }] });
    const all = items.filter((r) => filter(r.data));
    total = all.length;
    matches = all.slice(offset, offset + limit);
  } else {
    const where = [{ field: 'Protocol', values: [protocol] as Array<string | number> }];
    if (input.ListenerName !== undefined) where.push({ field: 'ListenerName', values: [input.ListenerName] });
    if (input.Port !== undefined) where.push({ field: 'Port', values: [input.Port] });
    if (input.Http3Supported !== undefined) where.push({ field: 'Http3Supported', values: [input.Http3Supported] });
    const page = await ctx.tx.list<ListenerData>(KIND.listener, { parent: owner!.id, where, offset, limit });
    total = page.total;
    matches = page.items;
  }
  const set: ListenerData[] = [];
  for (const r of matches) set.push(protocol === 'HTTPS' ? await withCurrentAliases(ctx.tx, r.data) : r.data);
  return { TotalCount: total, ListenerSet: set as unknown as Array<StoredListener[P]> };
}

async function modifyLayer4(
  ctx: ActionContext,
  protocol: 'TCP' | 'UDP',
  input: ModifyTCPListenerAttributeRequest & Partial<ModifyUDPListenerAttributeRequest>,
): Promise<Record<string, never>> {
  const rec = await getListener(ctx, input.ListenerId);
  const l = rec.data;
  if (l.Protocol !== protocol) throw wrongProtocol(l, protocol);
  const owner = (await resolveOwner(ctx, input, true))!;
  assertBelongs(l, input);
  if (input.ListenerName !== undefined) checkListenerName(input.ListenerName);
  checkScheduling(String(l.RealServerType), input.Scheduler, input.FailoverSwitch);
  const given: Partial<HealthSettings> = {
    HealthCheck: input.HealthCheck, DelayLoop: input.DelayLoop, ConnectTimeout: input.ConnectTimeout,
    HealthyThreshold: input.HealthyThreshold, UnhealthyThreshold: input.UnhealthyThreshold,
  };
  const health = {} as HealthSettings;
  for (const k of Object.keys(HEALTH_DEFAULTS) as Array<keyof HealthSettings>) health[k] = given[k] ?? (l[k] as number);
  checkHealth(given, health);
  const udpCheck = protocol === 'UDP' ? udpCheckSettings(input, health.HealthCheck, l as unknown as UdpCheck) : {};
  assertOwnerRunning(owner, 'FailedOperation.InstanceStatusNotInRuning');
  assertListenerIdle(rec);

  const data: ListenerData = {
    ...l,
    ...health,
    ...udpCheck,
    ListenerName: input.ListenerName ?? l.ListenerName,
    Scheduler: input.Scheduler ?? l.Scheduler,
    FailoverSwitch: input.FailoverSwitch ?? l.FailoverSwitch,
    ListenerStatus: LISTENER.ADJUSTING,
  };
  await listenerLife.begin(ctx, rec, LISTENER.ADJUSTING, LISTENER_T.settled, { ids: [l.ListenerId], from: LISTENER.ADJUSTING }, data);
  return {};
}

/**
 * True when one of the listener's L7 rules has real servers bound. An L4
 * listener's own bindings do not count: Terraform destroys L4 listeners with
 * their bindings in place using Force 0, which the real service accepts.
 */
async function hasBoundRuleServers(tx: StoreTx, l: ListenerData): Promise<boolean> {
  const { items } = await tx.list<Record<string, unknown>>(KIND.rule, { parent: l.ListenerId });
  return items.some((r) => Array.isArray(r.data.RealServerSet) && r.data.RealServerSet.length > 0);
}

export const handlers = {
  CreateTCPListeners: (input: CreateTCPListenersRequest, ctx) => createLayer4(ctx, 'TCP', input as CreateTCPListenersRequest & CreateUDPListenersRequest),

  CreateUDPListeners: (input: CreateUDPListenersRequest, ctx) => createLayer4(ctx, 'UDP', input as CreateTCPListenersRequest & CreateUDPListenersRequest),

  CreateHTTPListener: (input: CreateHTTPListenerRequest, ctx) => createLayer7(ctx, 'HTTP', input),

  CreateHTTPSListener: (input: CreateHTTPSListenerRequest, ctx) => createLayer7(ctx, 'HTTPS', input),

  DescribeTCPListeners: (input: DescribeTCPListenersRequest, ctx) => describe(ctx, 'TCP', input),
  DescribeUDPListeners: (input: DescribeUDPListenersRequest, ctx) => describe(ctx, 'UDP', input),
  DescribeHTTPListeners: (input: DescribeHTTPListenersRequest, ctx) => describe(ctx, 'HTTP', input),
  DescribeHTTPSListeners: (input: DescribeHTTPSListenersRequest, ctx) => describe(ctx, 'HTTPS', input),

  ModifyTCPListenerAttribute: (input: ModifyTCPListenerAttributeRequest, ctx) => modifyLayer4(ctx, 'TCP', input),

  ModifyUDPListenerAttribute: (input: ModifyUDPListenerAttributeRequest, ctx) =>
    modifyLayer4(ctx, 'UDP', input as ModifyTCPListenerAttributeRequest & ModifyUDPListenerAttributeRequest),

  /** Renames an HTTP listener; listeners of proxy groups are not supported. */
  ModifyHTTPListenerAttribute: async (input: ModifyHTTPListenerAttributeRequest, ctx) => {
    const rec = await getListener(ctx, input.ListenerId);
    const l = rec.data;
    if (l.Protocol !== 'HTTP') throw wrongProtocol(l, 'HTTP');
    if (l.GroupId) throw new ApiError('FailedOperation.NotSupportProxyGroup', `The listener \`${l.ListenerId}\` belongs to a proxy group; HTTP listeners of proxy groups cannot be modified.`);
    assertBelongs(l, input);
    checkListenerName(input.ListenerName);
    const proxy = await ctx.tx.get<Record<string, unknown>>(KIND.proxy, l.ProxyId ?? '');
    if (proxy?.data.Version === '1.0') throw new ApiError('FailedOperation.NotSupportOldVersionProxy', `The proxy \`${l.ProxyId}\` is a version 1.0 proxy.`);
    assertListenerIdle(rec, 'FailedOperation.ListenerStatusError');
    await listenerLife.begin(ctx, rec, LISTENER.ADJUSTING, LISTENER_T.settled, { ids: [l.ListenerId], from: LISTENER.ADJUSTING }, { ListenerName: input.ListenerName });
    return {};
  },

  ModifyHTTPSListenerAttribute: async (input: ModifyHTTPSListenerAttributeRequest, ctx) => {
    const rec = await getListener(ctx, input.ListenerId);
    const l = rec.data;
    if (l.Protocol !== 'HTTPS') throw wrongProtocol(l, 'HTTPS');
    if (l.ProxyId && !input.ProxyId) throw new ApiError('MissingParameter', `The request is missing a required parameter \`ProxyId\` (the listener \`${l.ListenerId}\` belongs to a proxy).`);
    assertBelongs(l, input);
    if (input.ListenerName !== undefined) checkListenerName(input.ListenerName);
    checkEnum('ForwardProtocol', input.ForwardProtocol, ['HTTP', 'HTTPS']);
    const changes: Record<string, unknown> = {};
    if (input.CertificateId !== undefined) {
      const c = await certificate(ctx, 'CertificateId', input.CertificateId, CERT_SERVER, 'InvalidParameterValue');
      changes.CertificateId = c.CertificateId;
      changes.CertificateAlias = c.CertificateAlias;
    }
    const clientIds = clientCertificateIds(input.ClientCertificateId, input.PolyClientCertificateIds);
    if (clientIds.length > 0) {
      if (l.AuthType !== 1) throw invalidParameterValue('PolyClientCertificateIds', `the listener \`${l.ListenerId}\` uses one-way authentication; client CA certificates are only used with mutual authentication`);
      const clients = [];
      for (const id of clientIds) clients.push(await certificate(ctx, 'PolyClientCertificateIds', id, CERT_CLIENT, 'InvalidParameterValue'));
      changes.ClientCertificateId = clients[0].CertificateId;
      changes.ClientCertificateAlias = clients[0].CertificateAlias;
      changes.PolyClientCertificateAliasInfo = clients;
    }
    const owner = await resolveOwner(ctx, { ProxyId: l.ProxyId || undefined, GroupId: l.GroupId || undefined }, false);
    if (owner) {
      if (isV1(owner)) throw new ApiError('FailedOperation.NotSupportOldVersionProxy', `The proxy \`${owner.id}\` is a version 1.0 proxy.`);
      assertOwnerRunning(owner, 'FailedOperation.InstanceStatusNotInRuning');
    }
    assertListenerIdle(rec);
    await listenerLife.begin(ctx, rec, LISTENER.ADJUSTING, LISTENER_T.settled, { ids: [l.ListenerId], from: LISTENER.ADJUSTING }, {
      ...changes,
      ListenerName: input.ListenerName ?? l.ListenerName,
      ForwardProtocol: input.ForwardProtocol ?? l.ForwardProtocol,
    });
    return {};
  },

  /** TLS versions and cipher suite of an HTTPS listener. */
  SetTlsVersion: async (input: SetTlsVersionRequest, ctx) => {
    const rec = await getListener(ctx, input.ListenerId);
    const l = rec.data;
    if (l.Protocol !== 'HTTPS') throw wrongProtocol(l, 'HTTPS');
    const versions = checkTlsVersions(input.TLSSupportVersion);
    const ciphers = checkTlsCiphers(input.TLSCiphers);
    const owner = await resolveOwner(ctx, { ProxyId: l.ProxyId || undefined, GroupId: l.GroupId || undefined }, false);
    if (owner) assertOwnerRunning(owner, 'FailedOperation.InstanceStatusNotInRuning');
    assertListenerIdle(rec, 'FailedOperation');
    await listenerLife.begin(ctx, rec, LISTENER.ADJUSTING, LISTENER_T.settled, { ids: [l.ListenerId], from: LISTENER.ADJUSTING }, { TLSSupportVersion: versions, TLSCiphers: ciphers });
    return {};
  },

  /**
   * Deletes listeners of one proxy or group. Unknown ids, ids of another
   * owner and listeners already being deleted are "invalid"; listeners with
   * another operation in progress "failed". Force 0 refuses the whole call
   * when a listener (or one of its rules) has real servers bound.
   */
  DeleteListeners: async (input: DeleteListenersRequest, ctx) => {
    checkEnum('Force', input.Force, [0, 1]);
    if (input.ListenerIds.length === 0) throw invalidParameterValue('ListenerIds', 'at least one listener ID is required');
    const owner = (await resolveOwner(ctx, input, true))!;
    assertOwnerRunning(owner, 'FailedOperation.InstanceStatusNotInRuning');
    const invalid: string[] = [];
    const failed: string[] = [];
    const doomed: Array<ResourceRecord<ListenerData>> = [];
    for (const id of [...new Set(input.ListenerIds)]) {
      const rec = await ctx.tx.get<ListenerData>(KIND.listener, id);
      if (!rec || rec.parent !== owner.id || rec.data.ListenerStatus === LISTENER.DESTROYING) invalid.push(id);
      else if (rec.data.ListenerStatus !== LISTENER.RUNNING) failed.push(id);
      else doomed.push(rec);
    }
    if (input.Force === 0) {
      for (const rec of doomed) {
        if (await hasBoundRuleServers(ctx.tx, rec.data)) {
          throw new ApiError('FailedOperation.RealServerAlreadyBound', `A rule of the listener \`${rec.id}\` has real servers bound; unbind them or set \`Force\` to 1.`);
        }
      }
    }
    for (const rec of doomed) await listenerLife.move(ctx.tx, rec, LISTENER.DESTROYING);
    if (doomed.length > 0) await startTask(ctx, LISTENER_T.removed, { ids: doomed.map((r) => r.id) });
    return { OperationFailedListenerSet: failed, OperationSucceedListenerSet: doomed.map((r) => r.id), InvalidStatusListenerSet: invalid };
  },
} satisfies HandlerPart<GaapActions>;

export const transitions: Record<string, TransitionHandler> = {
  /** A transient ListenerStatus (`from`) back to 0, unless something else changed it meanwhile. */
  [LISTENER_T.settled]: async (p: { ids: string[]; from: number }, tx) => {
    for (const id of p.ids) {
      const rec = await tx.get<ListenerData>(KIND.listener, id);
      if (rec && listenerLife.status(rec) === p.from) await listenerLife.move(tx, rec, LISTENER.RUNNING);
    }
  },
  [LISTENER_T.removed]: async (p: { ids: string[] }, tx) => {
    for (const id of p.ids) {
      const rec = await tx.get<ListenerData>(KIND.listener, id);
      if (rec && listenerLife.status(rec) === LISTENER.DESTROYING) await removeListeners(tx, [id]);
    }
  },
};

export function prepare(store: Store): void {
  store.ensureFieldIndex(KIND.listener, 'Protocol');
}
