/**
 * The GAAP configuration traffic tests forward through, made with the SDK
 * like a user would: a running proxy, a listener on it, origins on
 * 127.0.0.1 bound to it, and the wait until the data plane serves it; and
 * the server, origins and real server a traffic suite starts with.
 */
import type { Config } from '../../src/config';
import type { RunningServer } from '../../src/server';
import { boundListener, randomPort, until } from '../dataplane/fixtures';
import { cnClient, startTclocal } from '../helpers';

export interface ProxyAt {
  proxyId: string;
  /** The address its listeners bind (ProxyInfo.IP). */
  ip: string;
}

export interface ListenerAt extends ProxyAt {
  listenerId: string;
  port: number;
}

/** An origin to bind: its port on 127.0.0.1, and its weight or failover role if any. */
export interface OriginBinding {
  port: number;
  weight?: number;
  role?: string;
}

/** The real server 127.0.0.1 that the origins of a test listen on. */
export async function localRealServer(gaap: any, name = 'local'): Promise<string> {
  return (await gaap.AddRealServers({ ProjectId: 0, RealServerIP: ['127.0.0.1'], RealServerName: name })).RealServerSet[0].RealServerId;
}

/** What a traffic suite runs against: a server, its GAAP client, its named origins, and the real server 127.0.0.1 they are bound as. */
export interface Plane<O> {
  server: RunningServer;
  gaap: any;
  origins: Record<string, O>;
  rsId: string;
}

/** An origin as `stopPlane` ends it: anything with a `close()`. */
interface Closable {
  close(): Promise<void> | void;
}

/**
 * Starts a server with `settings`, makes the origins `names` with `origin`
 * (one after the other, in that order), and adds the real server 127.0.0.1.
 * If any of it fails, what was started is stopped before the error is thrown.
 */
export async function startPlane<O extends Closable>(settings: Partial<Config>, origin: (name: string) => Promise<O>, names: readonly string[]): Promise<Plane<O>> {
  const server = await startTclocal(settings);
  const origins: Record<string, O> = {};
  try {
    const gaap = cnClient('gaap', server);
    for (const n of names) origins[n] = await origin(n);
    const rsId = await localRealServer(gaap);
    return { server, gaap, origins, rsId };
  } catch (err) {
    await stopPlane({ server, origins }).catch(() => undefined);
    throw err;
  }
}

/** Stops the server, then closes the origins (also when stopping the server failed). */
export async function stopPlane(p: { server: RunningServer; origins: Record<string, Closable> }): Promise<void> {
  try {
    await p.server.stop();
  } finally {
    for (const o of Object.values(p.origins)) await o.close();
  }
}

/** A proxy Hongkong → Beijing (10 Mbps, Concurrent 2), once it runs. */
export async function runningProxy(gaap: any, name = 'dp'): Promise<ProxyAt> {
  const { InstanceId: proxyId } = await gaap.CreateProxy({ ProjectId: 0, ProxyName: name, AccessRegion: 'Hongkong', RealServerRegion: 'Beijing', Bandwidth: 10, Concurrent: 2 });
  const proxy = await until(async () => {
    const p = (await gaap.DescribeProxies({ ProxyIds: [proxyId] })).ProxySet[0];
    return p.Status === 'RUNNING' && p;
  }, `the proxy ${proxyId} to run`);
  return { proxyId, ip: proxy.IP };
}

/** A TCP or UDP listener (on a random port unless `settings.Ports` names one): rr, no health check, IP real servers; `settings` override any of it. */
export async function l4Listener(gaap: any, proxyId: string, protocol: 'TCP' | 'UDP' = 'TCP', settings: Record<string, unknown> = {}): Promise<{ listenerId: string; port: number }> {
  const ports = (settings.Ports as number[] | undefined) ?? [randomPort()];
  const { ListenerIds } = await gaap[`Create${protocol}Listeners`]({ ListenerName: 'l', Scheduler: 'rr', HealthCheck: 0, RealServerType: 'IP', ProxyId: proxyId, ...settings, Ports: ports });
  return { listenerId: ListenerIds[0], port: ports[0] };
}

/** Binds origins on 127.0.0.1 (the real server `rsId`) to a TCP or UDP listener. */
export function bindOrigins(gaap: any, rsId: string, listenerId: string, origins: OriginBinding[]): Promise<unknown> {
  return gaap.BindListenerRealServers({
    ListenerId: listenerId,
    RealServerBindSet: origins.map((o) => ({ RealServerId: rsId, RealServerIP: '127.0.0.1', RealServerPort: o.port, RealServerWeight: o.weight, RealServerFailoverRole: o.role })),
  });
}

/**
 * Waits until the data plane has bound the listener (and, with `origins`,
 * knows that many bindings of it); resolves with the port it listens on.
 */
export async function servedPort(server: RunningServer, proxyId: string, listenerId: string, origins?: number): Promise<number> {
  const l = await until(async () => {
    const reported = await boundListener(server, proxyId, listenerId);
    return reported?.bound && (origins === undefined || reported.origins.length === origins) ? reported.bound : undefined;
  }, `the listener ${listenerId} to be served`);
  return l.port;
}

/**
 * All of it: a running proxy, a TCP or UDP listener, `origins` bound, and
 * the data plane serving them.
 */
export async function forwardingListener(
  server: RunningServer, gaap: any,
  o: { rsId: string; origins: OriginBinding[]; protocol?: 'TCP' | 'UDP'; settings?: Record<string, unknown>; name?: string },
): Promise<ListenerAt> {
  const { proxyId, ip } = await runningProxy(gaap, o.name);
  const { listenerId } = await l4Listener(gaap, proxyId, o.protocol, o.settings);
  await bindOrigins(gaap, o.rsId, listenerId, o.origins);
  const port = await servedPort(server, proxyId, listenerId, o.origins.length);
  return { proxyId, ip, listenerId, port };
}
