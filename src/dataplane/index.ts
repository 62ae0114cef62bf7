/**
 * The GAAP data plane: every running TCP/UDP listener of a serving proxy is
 * bound on that proxy's loopback address and forwards to its origins. It
 * follows the store: each commit that touches GAAP's forwarding records
 * makes the affected accounts reconcile (new settings reach new
 * connections; established ones stay unless their proxy or listener stops
 * serving). Health and traffic go back to GAAP through its TrafficSink.
 */
import { randomBytes } from 'node:crypto';
import type { Socket as UdpSocket } from 'node:dgram';
import { createServer, isIP, Server, type Socket } from 'node:net';
import type { Logger } from 'pino';
import type { Config } from '../config';
import type { ForwardingListener, ForwardingProxy, TrafficSink } from '../services/gaap/forwarding';
import { ForwardingFollower, mergeRecords, touchesForwarding, type ForwardingUpdate } from '../services/gaap/forwarding-follow';
import type { CommitChanges, CommitRecords, Store } from '../store/types';
import type { BoundTcp } from './bound-socket';
import { listenerSocketBudget } from './budget';
import { Bucket, bucketFor } from './caps';
import { addTo, Counters, entity, originEntity, SEGMENT_BYTES, type Entity } from './counters';
import { HealthChecker } from './health';
import { HttpPlane, type HttpPlaneSettings } from './http';
import { applyConnectionFault, BindingCounters, type ConnectionFaults, type ListenerLive, type OriginLive, type TrafficReport } from './observe';
import { OriginSet, recordLags, type OriginState } from './origins';
import { accessCheck, type AccessCheck } from './security';
import { forward, proxyHeader, unmapped, type TcpConnection } from './tcp';
import { listenerUdpSocket, UdpSessions } from './udp';
import { acceptInstead, bindErrorText, bindListenerPort, isLoopback, listen } from './listener-port';
import { bindingSpec, ForwarderPool } from './workers';

/** The data plane's settings (documented with the rest in config.ts). */
export type DataPlaneSettings = Pick<
  Config,
  'dataplanePool' | 'dataplanePortOffset' | 'dataplaneHost' | 'dataplaneCaps' | 'dataplaneFlushMs' | 'dataplaneCheckScale' | 'dataplaneUdpIdleMs' | 'dataplaneTcpIdleMs' | 'dataplaneHttpTimeoutMs' | 'dataplaneHttpClientTimeoutMs' | 'dataplaneHttpKeepaliveMs' | 'dataplaneWorkers' | 'dataplaneWorkerJoin'
>;

interface ProxyRuntime {
  view: ForwardingProxy;
  /** Connections and sessions open through the proxy. */
  active: number;
  /** Bandwidth per direction (in: from clients), shared by the proxy's connections. */
  limits: { in: Bucket; out: Bucket };
}

/** One listener socket on one proxy's address. */
interface Binding {
  proxyId: string;
  address: string;
  /** The port really bound (the listener's, offset when privileged, or mapped on a shared address). */
  port: number;
  error: string | undefined;
  server: Server | undefined;
  /** Bound without listening in this process: the forwarder processes listen and accept on it. */
  bound: BoundTcp | undefined;
  udp: UdpSocket | undefined;
  sessions: UdpSessions | undefined;
  /** Open TCP connections, each with what it counts for. */
  conns: Map<TcpConnection, Entity[]>;
  /** What its traffic counts for: the listener, this proxy, the listener's group. */
  entities: Entity[];
  /** `entities` and each origin's own, by origin key: what a connection or session to that origin counts for. */
  originEntities: Map<string, Entity[]>;
  /** Cumulative, for observers (the store's counters are per minute). */
  counters: BindingCounters;
  /** The id under which the forwarder processes accept on it (TCP with workers). */
  shared: number | undefined;
}

interface ListenerRuntime {
  account: string;
  config: ForwardingListener;
  origins: OriginSet;
  checker: HealthChecker;
  /** The configuration the checker was built for. */
  checkerKey: string;
  access: AccessCheck | undefined;
  bindings: Map<string, Binding>;
  /** Health as last reported to GAAP (to report changes only). */
  reportedHealth: string;
}

export class DataPlane {
  private readonly proxies = new Map<string, Map<string, ProxyRuntime>>();
  private readonly listeners = new Map<string, Map<string, ListenerRuntime>>();
  private readonly counters = new Counters();
  private unsubscribe: (() => void) | undefined;
  private flushTimer: NodeJS.Timeout | undefined;
  /** Reads the forwarding view commit by commit. */
  private readonly follower: ForwardingFollower;
  /** Accounts to read again, with what their commits wrote (kind → ids). */
  private dirty = new Map<string, Map<string, Set<string>>>();
  private dirtyAll = false;
  /** What following the commits cost, for observers: passes, listeners applied, when the last socket was bound (ms). */
  private readonly work = { passes: 0, listenersApplied: 0, lastBoundAt: 0 };
  private running: Promise<void> | undefined;
  private stopped = false;
  private readonly sharedAddress: boolean;
  /** HTTP and HTTPS listeners. */
  private readonly http: HttpPlane;
  /** Listener sockets held (or being bound) against the budget the open-file limit allows; bindings refused for it wait for a free one. */
  private readonly sockets = { held: 0, budget: listenerSocketBudget(), refused: new Map<Binding, ListenerRuntime>(), warned: false };
  /** Health points last written per binding, so a minute gets one point unless health drops. */
  private readonly healthWritten = new Map<string, string>();
  /** Forwarder processes accepting on the TCP listeners' sockets (--dataplane-workers). */
  private readonly workers: ForwarderPool | undefined;

  constructor(
    private readonly store: Store,
    private readonly sink: TrafficSink,
    private readonly settings: DataPlaneSettings,
    private readonly log: Logger,
    /** Asked about each new connection or session (fault injection); absent: none. */
    private readonly faults?: ConnectionFaults,
  ) {
    this.follower = new ForwardingFollower(store);
    this.sharedAddress = settings.dataplaneHost !== '' || settings.dataplanePool.endsWith('/32');
    const httpSettings: HttpPlaneSettings = {
      dataplaneHost: settings.dataplaneHost, dataplanePortOffset: settings.dataplanePortOffset, dataplaneHttpTimeoutMs: settings.dataplaneHttpTimeoutMs,
      sharedAddress: this.sharedAddress, dataplaneCheckScale: settings.dataplaneCheckScale,
      dataplaneHttpClientTimeoutMs: settings.dataplaneHttpClientTimeoutMs, dataplaneHttpKeepaliveMs: settings.dataplaneHttpKeepaliveMs,
    };
    // One set of TLS session ticket keys for this process and its forwarders.
    const ticketKeys = randomBytes(48);
    const workers = settings.dataplaneWorkers > 0
      ? new ForwarderPool(settings.dataplaneWorkers, this.counters, log, {
        settings: httpSettings,
        ticketKeys,
        failed: (ruleId, key) => this.http.originFailed(ruleId, key),
        requests: (list) => this.http.addRequests(list),
      }, settings.dataplaneWorkerJoin)
      : undefined;
    this.workers = workers;
    this.http = new HttpPlane(httpSettings, {
      ruleHealth: (account, ruleId, origins) => this.sink.reportRuleHealth(account, ruleId, origins),
      connectionFault: faults,
      sharing: workers && {
        bind: (account, listenerId, proxyId, address, port, entities, counters, onShared) =>
          workers.bindShared(address, port, account, entities, counters, { http: { account, listenerId, proxyId } }, onShared),
        unbind: (id) => workers.unbind(id),
        open: (id) => workers.open(id),
        health: (ruleId, origins) => workers.shareRuleHealth(ruleId, origins),
      },
      connections: {
        open: (account, proxyId, entities) => {
          const p = this.proxies.get(account)?.get(proxyId);
          if (!p || !p.view.serving || (this.settings.dataplaneCaps && p.active >= p.view.maxConnections)) return false;
          p.active++;
          this.counters.open(account, entities);
          return true;
        },
        close: (account, proxyId, entities) => {
          const p = this.proxies.get(account)?.get(proxyId);
          if (p) p.active--;
          this.counters.close(account, entities);
        },
        bytes: (account, entities, inBytes, outBytes) =>
          this.counters.add(account, entities, inBytes, outBytes, Math.ceil(inBytes / SEGMENT_BYTES), Math.ceil(outBytes / SEGMENT_BYTES)),
        limits: (account, proxyId) => (this.settings.dataplaneCaps ? this.proxies.get(account)?.get(proxyId)?.limits : undefined),
      },
    }, log, ticketKeys);
  }

  /** Binds every serving listener of the stored state, then follows the store's commits. */
  async start(): Promise<void> {
    this.unsubscribe = this.store.onCommit((changes, records) => this.changed(changes, records));
    this.workers?.start();
    this.dirtyAll = true;
    await this.reconcile();
    this.flushTimer = setInterval(() => void this.flush(), this.settings.dataplaneFlushMs);
    this.flushTimer.unref();
  }

  private changed(changes: CommitChanges, records: CommitRecords | undefined): void {
    if (this.stopped) return;
    if (changes.has('*') || !records) {
      this.dirtyAll = true;
      void this.reconcile();
      return;
    }
    let touched = false;
    for (const [account, byKind] of records) {
      if (!touchesForwarding(byKind.keys())) continue;
      let pending = this.dirty.get(account);
      if (!pending) this.dirty.set(account, (pending = new Map()));
      mergeRecords(pending, byKind);
      touched = true;
    }
    if (touched) void this.reconcile();
  }

  /**
   * Runs reconciliation until nothing is left dirty; concurrent calls share
   * the run, and commits made meanwhile are taken together by the next pass.
   * A pass reads and applies only what the commits wrote (everything after
   * an import or reset).
   */
  private reconcile(): Promise<void> {
    if (this.running) return this.running;
    this.running = (async () => {
      try {
        while (!this.stopped && (this.dirtyAll || this.dirty.size > 0)) {
          let work: Array<[string, Map<string, Set<string>> | undefined]>;
          if (this.dirtyAll) {
            this.dirtyAll = false;
            this.dirty.clear();
            this.follower.forgetAll();
            const accounts = new Set([...(await this.follower.accountsWithProxies()), ...this.listeners.keys(), ...this.proxies.keys()]);
            work = [...accounts].map((a) => [a, undefined]);
          } else {
            work = [...this.dirty];
            this.dirty = new Map();
          }
          this.work.passes++;
          for (const [account, records] of work) {
            try {
              const update = await this.follower.update(account, records);
              await this.apply(update);
              // HTTP listeners follow their own records and, for their bindings, the state of the proxies they listen on.
              let httpProxyChanged = false;
              for (const l of update.http.values()) if (l.proxyIds.some((pid) => update.changedProxies.has(pid))) httpProxyChanged = true;
              if (update.changedHttp.size > 0 || httpProxyChanged) {
                // The forwarders learn the listeners before the sockets the apply hands them.
                // A whole read (after an import, a reset or a failed pass) is the whole set: whatever it lacks is gone.
                const changed = update.whole ? 'all' : update.changedHttp;
                this.workers?.httpApply(account, [...update.proxies.values()], update.http, changed);
                await this.http.apply(account, [...update.proxies.values()], update.http, changed);
              }
            } catch (err) {
              // What was read may be half applied: the account's next change reads it whole.
              this.follower.forget(account);
              this.log.error({ err, account }, 'data plane: reconciling the account failed');
            }
          }
        }
      } finally {
        this.running = undefined;
      }
    })();
    return this.running;
  }

  /** Brings the proxies and listeners an update names in line with it (every one known, when it read the account whole). */
  private async apply(u: ForwardingUpdate): Promise<void> {
    const { account } = u;
    const proxies = this.proxies.get(account) ?? new Map<string, ProxyRuntime>();
    for (const pid of u.whole ? new Set([...u.changedProxies, ...proxies.keys()]) : u.changedProxies) {
      const p = u.proxies.get(pid);
      const rt = proxies.get(pid);
      if (!p) {
        if ((rt?.active ?? 0) === 0) proxies.delete(pid);
      } else if (rt) {
        rt.view = p;
        rt.limits.in.setMbps(p.bandwidthMbps);
        rt.limits.out.setMbps(p.bandwidthMbps);
      } else proxies.set(pid, { view: p, active: 0, limits: { in: bucketFor(p.bandwidthMbps), out: bucketFor(p.bandwidthMbps) } });
    }
    this.proxies.set(account, proxies);

    const listeners = this.listeners.get(account) ?? new Map<string, ListenerRuntime>();
    const binds: Promise<void>[] = [];
    for (const id of u.whole ? new Set([...u.changedListeners, ...listeners.keys()]) : u.changedListeners) {
      const l = u.listeners.get(id);
      if (!l) {
        const gone = listeners.get(id);
        if (!gone) continue;
        for (const [pid, b] of gone.bindings) this.unbind(gone, pid, b);
        gone.checker.stop();
        listeners.delete(id);
        continue;
      }
      this.work.listenersApplied++;
      const rt = this.update(account, listeners, l);
      this.share(rt);
      const wanted = new Map<string, string>();
      if (l.serving) {
        for (const pid of l.proxyIds) {
          const p = proxies.get(pid)?.view;
          if (p?.serving && p.address) wanted.set(pid, this.settings.dataplaneHost || p.address);
        }
      }
      for (const [pid, b] of rt.bindings) {
        if (wanted.get(pid) !== b.address) this.unbind(rt, pid, b);
      }
      for (const [pid, address] of wanted) if (!rt.bindings.has(pid)) binds.push(this.bind(rt, pid, address));
    }
    this.listeners.set(account, listeners);
    if (binds.length === 0) return;
    await Promise.all(binds);
    this.work.lastBoundAt = Date.now();
  }

  /** The listener's runtime with the new settings: origins keep their health; health checks restart only if their settings or origins changed. */
  private update(account: string, listeners: Map<string, ListenerRuntime>, l: ForwardingListener): ListenerRuntime {
    const checkerKey = JSON.stringify([l.health, l.origins.map((o) => [o.realServerId, o.address, o.port])]);
    let rt = listeners.get(l.listenerId);
    if (!rt) {
      const origins = new OriginSet(l);
      rt = {
        account, config: l, origins, checkerKey, access: undefined, bindings: new Map(), reportedHealth: '',
        checker: this.checker(account, l, origins),
      };
      listeners.set(l.listenerId, rt);
    } else {
      rt.config = l;
      rt.origins.update(l);
      if (rt.checkerKey !== checkerKey) {
        rt.checker.stop();
        rt.checker = this.checker(account, l, rt.origins);
        rt.checkerKey = checkerKey;
      }
    }
    rt.access = accessCheck(l.security, l.protocol, l.port);
    if (recordLags(rt.origins.states, (s) => s.healthy)) {
      rt.reportedHealth = '';
      void this.reportHealth(account, l.listenerId);
    }
    return rt;
  }

  private checker(account: string, l: ForwardingListener, origins: OriginSet): HealthChecker {
    return new HealthChecker(origins, l.health, l.protocol, this.settings.dataplaneCheckScale, {
      changed: () => {
        const rt = this.listeners.get(account)?.get(l.listenerId);
        if (rt) this.share(rt);
        void this.reportHealth(account, l.listenerId);
      },
    });
  }

  private async reportHealth(account: string, listenerId: string): Promise<void> {
    const rt = this.listeners.get(account)?.get(listenerId);
    if (!rt || this.stopped) return;
    const health = rt.origins.states.map((s) => ({
      realServerId: s.origin.realServerId, port: s.origin.port, healthy: s.healthy, downIps: s.downIps, unresolved: s.unresolved,
    }));
    const key = JSON.stringify(health);
    if (key === rt.reportedHealth) return;
    rt.reportedHealth = key;
    try {
      await this.sink.reportHealth(account, listenerId, health);
      await this.writeHealthSeries();
    } catch (err) {
      this.log.warn({ err, listenerId }, 'data plane: reporting health failed');
    }
  }

  private async bind(rt: ListenerRuntime, proxyId: string, address: string): Promise<void> {
    const l = rt.config;
    const b: Binding = {
      proxyId, address, port: l.port, error: undefined, server: undefined, bound: undefined, udp: undefined, sessions: undefined, conns: new Map(), entities: this.entities(rt, proxyId), originEntities: new Map(),
      counters: new BindingCounters(), shared: undefined,
    };
    rt.bindings.set(proxyId, b);
    if (!this.settings.dataplaneHost && !isLoopback(address)) {
      b.error = `the proxy's address ${address} is not a loopback address (set the data-plane host to bind another)`;
      this.log.warn({ listenerId: l.listenerId, proxyId, address }, `data plane: ${b.error}`);
      return;
    }
    if (this.sockets.held >= this.sockets.budget) {
      b.error = `EMFILE: no open files left for more listeners (${this.sockets.held} listener sockets; the rest of the process's open-file limit is kept for the API and connections: raise ulimit -n)`;
      this.sockets.refused.set(b, rt);
      if (!this.sockets.warned) this.log.warn({ listenerId: l.listenerId, proxyId, sockets: this.sockets.held }, 'data plane: open-file budget reached, further listeners stay unbound until sockets are freed');
      this.sockets.warned = true;
      return;
    }
    this.sockets.held++;
    const shared = this.sharedAddress || address === '::1';
    const bound = await bindListenerPort(l.port, { offset: this.settings.dataplanePortOffset, shared, forwarders: !!this.workers && l.protocol === 'TCP' }, (port) => this.listenOn(rt, b, address, port));
    if ('port' in bound) {
      b.port = bound.port;
      if (rt.bindings.get(proxyId) !== b) {
        // Unbound while binding.
        this.release(b);
        this.freeSocket();
        return;
      }
      b.error = undefined;
      return;
    }
    this.freeSocket();
    b.port = l.port;
    b.error = bindErrorText(bound.error);
    this.log.warn({ listenerId: l.listenerId, proxyId, address, port: l.port, error: b.error }, 'data plane: a listener could not be bound');
  }

  /**
   * One attempt at a binding's socket on `port`: on success the binding holds
   * it (server, bound socket or UDP socket, and its id in the forwarders);
   * on failure nothing is left open and the error is thrown.
   */
  private async listenOn(rt: ListenerRuntime, b: Binding, address: string, port: number): Promise<number> {
    const onError = (err: Error) => this.log.warn({ err, listenerId: rt.config.listenerId }, 'data plane: listener socket error');
    if (rt.config.protocol !== 'TCP') {
      const udp = listenerUdpSocket(isIP(address) === 6 ? 'udp6' : 'udp4');
      try {
        port = await listen(udp, address, port);
      } catch (err) {
        try {
          udp.close();
        } catch {
          // Never bound.
        }
        throw err;
      }
      udp.on('error', onError);
      this.udpSessions(rt, b, udp);
      return port;
    }
    const workers = this.workers;
    let shared;
    try {
      // The forwarders listen and accept; this process only holds the socket. Their listen's error (a port taken meanwhile) is this bind's.
      shared = await workers?.bindShared(address, port, rt.account, b.entities, b.counters, { spec: this.spec(rt, b) }, (id) => (b.shared = id));
    } catch (err) {
      b.shared = undefined;
      throw err;
    }
    if (workers && shared) {
      const { id, bound, answer } = shared;
      if (answer === 'listening' || rt.bindings.get(b.proxyId) !== b) {
        b.bound = bound;
        return bound.port;
      }
      const server = this.tcpServer(rt, b);
      await acceptInstead(this.log, rt.config.listenerId, server, bound, () => {
        workers.unbind(id);
        b.shared = undefined;
        bound.close();
      });
      b.server = server;
      server.on('error', onError);
      return bound.port;
    }
    const server = this.tcpServer(rt, b);
    try {
      port = await listen(server, address, port);
    } catch (err) {
      server.close();
      throw err;
    }
    b.server = server;
    server.on('error', onError);
    // Where the runtime cannot bind without listening, the forwarders accept beside this process.
    if (workers) b.shared = workers.bind(server, rt.account, b.entities, b.counters, { spec: this.spec(rt, b) }).id;
    return port;
  }

  /** Closes what a binding holds and stops the forwarders accepting on it. */
  private release(b: Binding): void {
    if (b.shared !== undefined) this.workers?.unbind(b.shared);
    b.server?.close();
    b.bound?.close();
    b.sessions?.close();
    b.udp?.close();
  }

  /** A listener socket was closed (or never bound): a binding refused for the budget may take its place. */
  private freeSocket(): void {
    this.sockets.held--;
    if (this.sockets.refused.size === 0 || this.stopped) return;
    for (const [b, rt] of this.sockets.refused) {
      if (this.sockets.held >= this.sockets.budget) return;
      this.sockets.refused.delete(b);
      if (rt.bindings.get(b.proxyId) !== b || !this.listeners.get(rt.account)?.has(rt.config.listenerId)) continue;
      rt.bindings.delete(b.proxyId);
      void this.bind(rt, b.proxyId, b.address);
    }
    this.sockets.warned = false;
  }

  private unbind(rt: ListenerRuntime, proxyId: string, b: Binding): void {
    rt.bindings.delete(proxyId);
    this.sockets.refused.delete(b);
    if (b.server || b.bound || b.udp) this.freeSocket();
    this.release(b);
    // The proxy or listener stopped serving: its traffic stops with it.
    for (const c of b.conns.keys()) {
      c.client.destroy();
      c.upstream?.destroy();
    }
  }

  private spec(rt: ListenerRuntime, b: Binding) {
    return bindingSpec(rt.config, rt.origins, this.proxy(rt, b.proxyId)?.view.address ?? b.address, this.settings.dataplaneTcpIdleMs);
  }

  /** The forwarder processes learn the listener's settings and health as they are now. */
  private share(rt: ListenerRuntime): void {
    if (!this.workers) return;
    for (const b of rt.bindings.values()) if (b.shared !== undefined) this.workers.update(b.shared, this.spec(rt, b));
  }

  /** Connections the forwarders hold open through one proxy. */
  private openInWorkers(listeners: ListenerRuntime[], proxyId: string): number {
    if (!this.workers) return 0;
    let n = 0;
    for (const rt of listeners) {
      const shared = rt.bindings.get(proxyId)?.shared;
      if (shared !== undefined) n += this.workers.open(shared);
    }
    return n;
  }

  /** Connections open on a binding, in this process and in the forwarders. */
  private open(b: Binding): number {
    return b.conns.size + (b.sessions?.sessions.size ?? 0) + (b.shared !== undefined ? this.workers?.open(b.shared) ?? 0 : 0);
  }

  private entities(rt: ListenerRuntime, proxyId: string): Entity[] {
    const list: Entity[] = [entity('listener', rt.config.listenerId), entity('proxy', proxyId)];
    if (rt.config.groupId) list.push(entity('group', rt.config.groupId));
    return list;
  }

  /** What a connection or session of `b` to `origin` counts for: the binding's entities and the origin's. */
  private entitiesTo(rt: ListenerRuntime, b: Binding, origin: OriginState): Entity[] {
    let list = b.originEntities.get(origin.key);
    if (!list) b.originEntities.set(origin.key, (list = [...b.entities, originEntity(origin.origin.realServerId, rt.config.listenerId)]));
    return list;
  }

  private proxy(rt: ListenerRuntime, proxyId: string): ProxyRuntime | undefined {
    return this.proxies.get(rt.account)?.get(proxyId);
  }

  /** Policy and connection cap: may a new connection or session from `clientIp` through this proxy begin? */
  private admit(rt: ListenerRuntime, p: ProxyRuntime | undefined, clientIp: string): boolean {
    if (!p || !p.view.serving) return false;
    if (rt.access && !rt.access(clientIp)) return false;
    return !(this.settings.dataplaneCaps && p.active >= p.view.maxConnections);
  }

  private tcpServer(rt: ListenerRuntime, b: Binding): Server {
    return createServer({ allowHalfOpen: true, noDelay: true }, (client: Socket) => {
      client.on('error', () => client.destroy());
      b.counters.accepted++;
      const fault = this.faults?.(b.proxyId, rt.config.listenerId);
      if (fault) applyConnectionFault(fault, client, this.settings.dataplaneTcpIdleMs, () => this.accept(rt, b, client));
      else this.accept(rt, b, client);
    });
  }

  /** A new connection: judged by policy and caps, then forwarded to the origin its listener's scheduler picks. */
  private accept(rt: ListenerRuntime, b: Binding, client: Socket): void {
    // The peer's address costs a system call: asked for only when a policy or affinity needs it.
    const ip = rt.access || rt.config.sessionPersist > 0 ? unmapped(client.remoteAddress ?? '') : '';
    const p = this.proxy(rt, b.proxyId);
    const origin = this.admit(rt, p, ip) ? rt.origins.pick(ip, Date.now()) : undefined;
    if (!origin || !p) {
      client.resetAndDestroy();
      return;
    }
    const entities = this.entitiesTo(rt, b, origin);
    origin.active++;
    p.active++;
    this.counters.open(rt.account, entities);
    const l = rt.config;
    const conn = forward(client, {
      origin,
      header: l.clientIpMethod === 1 ? proxyHeader(client, p.view.address, l.port) : undefined,
      connectTimeoutMs: l.health.connectTimeout * 1000,
      idleMs: this.settings.dataplaneTcpIdleMs,
      limits: this.settings.dataplaneCaps ? p.limits : undefined,
      done: (c) => {
        origin.active--;
        p.active--;
        b.conns.delete(c);
        b.counters.bytesIn += c.client.bytesRead;
        b.counters.bytesOut += c.client.bytesWritten;
        this.countTcp(rt.account, entities, c);
        this.counters.close(rt.account, entities);
      },
    });
    b.conns.set(conn, entities);
  }

  private countTcp(account: string, entities: Entity[], c: TcpConnection): void {
    const inBytes = c.client.bytesRead - c.countedIn;
    const outBytes = c.client.bytesWritten - c.countedOut;
    if (inBytes === 0 && outBytes === 0) return;
    c.countedIn += inBytes;
    c.countedOut += outBytes;
    this.counters.add(account, entities, inBytes, outBytes, Math.ceil(inBytes / SEGMENT_BYTES), Math.ceil(outBytes / SEGMENT_BYTES));
  }

  private udpSessions(rt: ListenerRuntime, b: Binding, sock: UdpSocket): void {
    b.udp = sock;
    const { counters } = b;
    b.sessions = new UdpSessions(sock, {
      open: (ip) => {
        counters.accepted++;
        // UDP has no connection to refuse or reset: either drops the session's datagrams (each one from an unknown client asks again).
        const fault = this.faults?.(b.proxyId, rt.config.listenerId);
        if (fault && fault.effect !== 'delay') return undefined;
        const p = this.proxy(rt, b.proxyId);
        const origin = this.admit(rt, p, unmapped(ip)) ? rt.origins.pick(unmapped(ip), Date.now()) : undefined;
        if (!origin || !p) return undefined;
        origin.active++;
        p.active++;
        const entities = this.entitiesTo(rt, b, origin);
        this.counters.open(rt.account, entities);
        // The session's counters stay while it is open (an open session keeps them from being dropped at a flush).
        const totals = this.counters.totalsOf(rt.account, entities);
        const caps = this.settings.dataplaneCaps;
        return {
          origin,
          delayMs: fault?.delayMs,
          inbound: (bytes) => {
            if (caps && !p.limits.in.tryTake(bytes)) return false;
            addTo(totals, bytes, 0, 1, 0);
            counters.bytesIn += bytes;
            return true;
          },
          outbound: (bytes) => {
            if (caps && !p.limits.out.tryTake(bytes)) return false;
            addTo(totals, 0, bytes, 0, 1);
            counters.bytesOut += bytes;
            return true;
          },
          closed: () => {
            origin.active--;
            p.active--;
            this.counters.close(rt.account, entities);
          },
        };
      },
    }, this.settings.dataplaneUdpIdleMs);
  }

  /** Samples open connections, then hands the counters and health points to the store. */
  async flush(): Promise<void> {
    for (const listeners of this.listeners.values()) {
      for (const rt of listeners.values()) {
        for (const b of rt.bindings.values()) for (const [c, entities] of b.conns) this.countTcp(rt.account, entities, c);
      }
    }
    this.http.sampleConnections();
    const now = Math.floor(Date.now() / 1000);
    for (const [account, points] of this.http.drain(now)) {
      try {
        await this.sink.recordCounters(account, points);
      } catch (err) {
        this.log.warn({ err, account }, 'data plane: writing request counts failed');
      }
    }
    for (const [account, points] of this.counters.drain(now)) {
      try {
        await this.sink.recordCounters(account, points);
      } catch (err) {
        this.log.warn({ err, account }, 'data plane: writing counters failed');
      }
    }
    await this.writeHealthSeries();
  }

  /**
   * One health point per origin binding and minute (1 normal, 0 abnormal;
   * the minute keeps its lowest), written again only when health changed.
   */
  private async writeHealthSeries(): Promise<void> {
    const now = Math.floor(Date.now() / 1000);
    const minute = Math.floor(now / 60);
    for (const [account, listeners] of this.listeners) {
      const points = [];
      for (const rt of listeners.values()) {
        if (rt.bindings.size === 0) continue;
        for (const s of rt.origins.states) {
          const { id } = originEntity(s.origin.realServerId, rt.config.listenerId);
          const value = s.healthy ? 1 : 0;
          const mark = `${minute}|${value}`;
          if (this.healthWritten.get(`${account}|${id}`) === mark) continue;
          this.healthWritten.set(`${account}|${id}`, mark);
          points.push({ scope: 'realServer' as const, id, metric: 'Health', at: now, value, merge: 'min' as const });
        }
      }
      if (points.length === 0) continue;
      try {
        await this.sink.recordCounters(account, points);
      } catch (err) {
        this.log.warn({ err, account }, 'data plane: writing health points failed');
      }
    }
  }

  /** What is bound where, per account, proxy and listener: for GET /_tclocal/dataplane. */
  status(): unknown {
    const accounts = [];
    for (const [account, proxies] of this.proxies) {
      const onProxy = new Map<string, ListenerRuntime[]>();
      for (const rt of this.listeners.get(account)?.values() ?? []) {
        for (const pid of rt.config.proxyIds) {
          const list = onProxy.get(pid);
          if (list) list.push(rt);
          else onProxy.set(pid, [rt]);
        }
      }
      accounts.push({
        account,
        proxies: [...proxies.values()].map((p) => ({
          proxyId: p.view.proxyId,
          address: p.view.address,
          serving: p.view.serving,
          connections: p.active + this.openInWorkers(onProxy.get(p.view.proxyId) ?? [], p.view.proxyId) + this.http.openInWorkers(p.view.proxyId),
          listeners: [...(onProxy.get(p.view.proxyId) ?? [])
            .map((rt) => {
              const b = rt.bindings.get(p.view.proxyId);
              return {
                listenerId: rt.config.listenerId,
                protocol: rt.config.protocol,
                port: rt.config.port,
                groupId: rt.config.groupId,
                bound: b && !b.error ? { address: b.address, port: b.port } : null,
                error: b?.error ?? null,
                connections: b ? this.open(b) : 0,
                origins: rt.origins.states.map((s) => ({
                  realServerId: s.origin.realServerId,
                  address: s.origin.address,
                  port: s.origin.port,
                  role: s.origin.role,
                  weight: s.origin.weight,
                  healthy: s.healthy,
                  downIps: s.downIps,
                  connections: s.active,
                  rttMs: s.rttMs === undefined ? null : Math.round(s.rttMs * 1000) / 1000,
                })),
              };
            }), ...this.http.status(p.view.proxyId)],
        })),
      });
    }
    return {
      enabled: true,
      settings: { pool: this.settings.dataplanePool, host: this.settings.dataplaneHost || null, portOffset: this.settings.dataplanePortOffset, caps: this.settings.dataplaneCaps, workers: this.settings.dataplaneWorkers },
      sockets: { held: this.sockets.held, budget: Number.isFinite(this.sockets.budget) ? this.sockets.budget : null },
      reconcile: { ...this.work, pending: this.running !== undefined || this.dirtyAll || this.dirty.size > 0, httpListenersConfigured: this.http.counts.listenersConfigured, ...this.follower.counts },
      ...(this.workers ? { workers: this.workers.status() } : {}),
      accounts,
    };
  }

  /** Cumulative counters and live origin health per proxy and listener, read now (for an observer such as the console). */
  traffic(): TrafficReport {
    const l7 = this.http.traffic();
    const proxies: TrafficReport['proxies'] = [];
    for (const [account, byId] of this.proxies) {
      const byProxy = new Map<string, ListenerLive[]>();
      for (const rt of this.listeners.get(account)?.values() ?? []) {
        const origins = rt.origins.states.map((s): OriginLive => ({
          realServerId: s.origin.realServerId, address: s.origin.address, port: s.origin.port, healthy: s.healthy, connections: s.active,
        }));
        for (const proxyId of rt.config.proxyIds) {
          const b = rt.bindings.get(proxyId);
          const clients = [...(b?.conns.keys() ?? [])].map((c) => c.client);
          const list = byProxy.get(proxyId) ?? [];
          byProxy.set(proxyId, list);
          list.push({
            listenerId: rt.config.listenerId,
            protocol: rt.config.protocol,
            bound: b && !b.error && (b.server || b.bound || b.udp) ? `${b.address}:${b.port}` : undefined,
            connections: b ? this.open(b) : 0,
            accepted: b?.counters.accepted ?? 0,
            ...(b ? b.counters.bytesWith(clients) : { bytesIn: 0, bytesOut: 0 }),
            origins,
          });
        }
      }
      // Only proxies with listeners: a report costs the listeners it shows, not the proxies an account holds.
      for (const proxyId of new Set([...byProxy.keys(), ...l7.keys()])) {
        if (!byId.has(proxyId)) continue;
        proxies.push({ account, proxyId, listeners: [...(byProxy.get(proxyId) ?? []), ...(l7.get(proxyId) ?? [])] });
      }
    }
    return { at: Date.now(), proxies };
  }

  /** Closes every socket; the last counters reach the store before it closes. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.unsubscribe?.();
    if (this.flushTimer) clearInterval(this.flushTimer);
    await this.running;
    // The forwarders' last counters arrive before the last flush.
    await this.workers?.stop();
    await this.flush();
    for (const listeners of this.listeners.values()) {
      for (const rt of listeners.values()) {
        rt.checker.stop();
        for (const [pid, b] of rt.bindings) this.unbind(rt, pid, b);
      }
    }
    this.http.stop();
    this.listeners.clear();
    this.proxies.clear();
  }
}
