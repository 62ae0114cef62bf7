/**
 * HTTP and HTTPS listeners: each request's Host picks the domain (the
 * default server for unknown names), the longest rule path that prefixes
 * the decoded request path picks the rule, and the rule's scheduler, weights
 * and origin health pick the origin. Requests reach origins over pooled
 * keep-alive connections (`http-forward.ts`, `origin-pool.ts`); the proxy's
 * own failures answer 404/502/504, and a domain's error pages rewrite listed
 * statuses. HTTPS listeners serve the
 * listener's certificate, or a domain's chosen by SNI (with the domain's
 * TLS versions, ciphers and client CAs); certificates are swapped for new
 * handshakes without closing established connections. Basic
 * authentication and origin TLS live in `http-auth.ts`.
 */
import { STATUS_CODES, createServer as createHttpServer, request as httpRequest, type IncomingMessage, type Server as HttpServer, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer, request as httpsRequest, type Server as HttpsServer } from 'node:https';
import { constants as cryptoConstants, randomBytes } from 'node:crypto';
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { createServer as createNetServer, isIP, type Server as NetServer, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { TlsOptions } from 'node:tls';
import type { Logger } from 'pino';
import { percentDecoded } from '../core/url-path';
import type { CounterPoint, ForwardingListener, ForwardingProxy, OriginHealth } from '../services/gaap/forwarding';
import type { HttpCheck, HttpDomain, HttpListener, HttpRule, ServedCertificate } from '../services/gaap/forwarding-http';
import { pacedPipe } from './caps';
import { entity, originEntity, type Entity } from './counters';
import { BasicAuthGate, challenge, challengeOf, originFailure, originTlsOptions, rawChallenge } from './http-auth';
import { errorPage, Exchange, headerObject, holdOrigin, HOP_BY_HOP, proxyAnswer, rawPage, rawProxyRefusal, requestFailed, requestHead, responseHead, ruleHead, sendPage, upstreamHost, type OriginRoute, type RuleHead, type Tally } from './http-forward';
import { ORIGIN_IDLE_MS, OriginPools, type OriginTarget } from './origin-pool';
import { FastClient, RawOriginPool, type FastExchange, type PlainRequest } from './http-fast';
import { peekServerName } from './http-tls';
import { HealthChecker, type Probe } from './health';
import { BindingCounters, type ConnectionFault, type ConnectionFaults, type ListenerLive } from './observe';
import { ClientConnections, type ConnectionLedger } from './http-connections';
import { closeWith, guardServer, hasBody, requestRefusal, serverOptions, watchBody } from './http-guard';
import { applyHealth, measureRtt, OriginSet, recordLags, type OriginHealthSpec, type OriginState } from './origins';
import { blocks, effectiveHealthy, PassiveHealth, type PassiveCheck } from './passive-health';
import type { BoundTcp } from './bound-socket';
import { accessCheck, type AccessCheck } from './security';
import { acceptInstead, bindErrorText, bindListenerPort, isLoopback, listen } from './listener-port';
import { unmapped } from './tcp';

export interface HttpPlaneSettings {
  dataplaneHost: string;
  dataplanePortOffset: number;
  /** An origin that sends nothing for this long answers 504. */
  dataplaneHttpTimeoutMs: number;
  /** Every listener shares one address: a taken port is mapped to a free one. */
  sharedAddress: boolean;
  dataplaneCheckScale: number;
  /** A client must send a request's head within this long and never pause its body longer (408). */
  dataplaneHttpClientTimeoutMs: number;
  /** Idle keep-alive client connections are closed after this long. */
  dataplaneHttpKeepaliveMs: number;
}

export interface HttpPlaneEvents {
  /** A rule's origin health changed (reported when it changes). */
  ruleHealth(account: string, ruleId: string, origins: OriginHealth[]): Promise<void>;
  /** Asked about each new connection (fault injection). */
  connectionFault?: ConnectionFaults;
  /** Client connections are admitted against the proxy's cap and counted here. */
  connections: ConnectionLedger;
  /** The main process with forwarder processes: listener sockets are bound here and accepted on there; rule health goes to them. */
  sharing?: HttpSharing;
  /** A forwarder process's plane: sockets come through attach(), rule health from the main process, and failed requests go to it; no check runs here. */
  remote?: { failed(ruleId: string, originKey: string): void };
}

/** What the main process's plane asks of the forwarder processes. */
export interface HttpSharing {
  /**
   * Binds `address:port` without listening and hands the socket to the
   * forwarders (`onShared` learns its id at once); resolves once one listens
   * ('listening') or none answered in time ('unanswered': this process
   * listens itself); throws the bind's or the listen's error. Undefined where
   * the runtime cannot bind without listening: this process serves alone.
   */
  bind(account: string, listenerId: string, proxyId: string, address: string, port: number, entities: Entity[], counters: BindingCounters, onShared: (id: number) => void): Promise<{ bound: BoundTcp; answer: 'listening' | 'unanswered' } | undefined>;
  unbind(id: number): void;
  /** Client connections open in the forwarders on a shared socket. */
  open(id: number): number;
  /** A rule's origins' health as the checks see it now (undefined: the rule is gone). */
  health(ruleId: string, origins: readonly OriginState[] | undefined): void;
}

interface RuleRuntime extends RuleHead {
  origins: OriginSet;
  /** HTTPS origins: the rule's TLS settings as a pool key; undefined for HTTP. */
  tlsKey: string | undefined;
  /** Origin certificates are verified for the Host sent (no name set): pools are kept apart by it. */
  verifiesHost: boolean;
  /** The pool of each origin, found once per configuration. */
  routes: Map<OriginState, OriginRoute>;
  /** The fast path's pool of each origin, found once per configuration. */
  rawPools: Map<OriginState, RawOriginPool>;
  /** What the rule adds to heads is all Latin-1, as the fast path writes heads. */
  latin1: boolean;
}

/** A rule's origins with their health checks, kept across reconfigurations. */
interface RuleState {
  account: string;
  origins: OriginSet;
  /** None in a forwarder process: the main process checks. */
  checker: HealthChecker | undefined;
  passive: PassiveCheck;
  /** The settings the checker was built for. */
  checkKey: string;
  reported: string;
}

interface DomainRuntime {
  view: HttpDomain;
  rules: RuleRuntime[];
}

interface Binding {
  /** Built holding the UDP port too (Http3Supported). */
  http3: boolean;
  address: string;
  port: number;
  /** The listening server: the HTTP server, or for HTTPS (and in a forwarder process, for HTTP too) the front that hands each connection to a profile's server. */
  server: HttpServer | NetServer | undefined;
  error: string | undefined;
  /** HTTPS: a server per TLS profile (certificate, versions, ciphers, client CAs), fed by the front; HTTP in a forwarder process: the one HTTP server. */
  profiles: Map<string, Profile>;
  /** The profile last found for a certificate of the current view, so that a handshake does not serialise the certificate to find it. */
  profileOf: WeakMap<ServedCertificate, Profile>;
  /** Client connections open now (raw TCP sockets); for HTTPS also ended with the binding. */
  sockets: Set<Socket>;
  counters: BindingCounters;
  /** Its client connections, for the cap and the statistics. */
  clients: ClientConnections;
  /** Http3Supported: the UDP port held (QUIC is not served), or why it could not be. */
  udp: UdpSocket | undefined;
  udpError: string | undefined;
  /** Bound without listening here: the forwarder processes accept on it, under this id. */
  bound: BoundTcp | undefined;
  shared: number | undefined;
  /** Client connections still to close after their next answer, so that their clients connect again to another forwarder process. */
  shed: number;
}

/** An HTTPS server for one TLS profile (or, in a forwarder process, a plain HTTP binding's one server), and the connections it holds. */
interface Profile {
  server: HttpsServer | HttpServer;
  open: number;
  /** No new handshake comes here; the server is closed once its last connection ends. */
  retired: boolean;
  /** Whether it asks clients for a certificate (part of its key). */
  mutualAuth: boolean;
}

interface ListenerRuntime {
  config: HttpListener;
  domains: Map<string, DomainRuntime>;
  defaultDomain: DomainRuntime | undefined;
  /** The certificate for clients that send no SNI or a name no domain claims. */
  fallback: ServedCertificate | undefined;
  /** The certificate every client gets whatever name it asks for (no domain has one of its own): the front need not read the ClientHello. */
  onlyCertificate: ServedCertificate | undefined;
  bindings: Map<string, Binding>;
  /** The security policy's verdict on a client address (undefined: no policy). */
  access: AccessCheck | undefined;
}

/** The listener-shaped settings the shared origin scheduler reads, for one rule. */
function schedulingOf(rule: HttpRule): ForwardingListener {
  return {
    listenerId: rule.ruleId, protocol: 'TCP', port: 0, proxyIds: [], groupId: null, serving: true,
    scheduler: rule.scheduler, realServerType: 'IP', origins: rule.origins,
    health: rule.health,
    failover: rule.failover, sessionPersist: 0, clientIpMethod: 0, security: null,
  };
}

/** The host name of a Host header: lower-case, without its port (IPv6 literals keep their brackets' content). */
export function hostName(host: string | undefined): string {
  if (!host) return '';
  const h = host.trim().toLowerCase();
  if (h.startsWith('[')) return h.slice(1, h.indexOf(']') > 0 ? h.indexOf(']') : undefined);
  const colon = h.lastIndexOf(':');
  return colon >= 0 ? h.slice(0, colon) : h;
}

/** Every request a listener parses counts, whichever path serves it (upgrades too): in the binding's counters and the proxy's QPS. */
function countRequest(b: Binding, tally: Tally, https: boolean): void {
  b.counters.requests++;
  if (https) tally.https++;
  else tally.http++;
}

function decodedPath(url: string): string {
  const q = url.indexOf('?');
  return percentDecoded(q >= 0 ? url.slice(0, q) : url);
}

/** The domain a request's Host names, else the default server (a Host written as the domain is found without normalising it). */
function domainOf(rt: ListenerRuntime, host: string | undefined): DomainRuntime | undefined {
  return (host !== undefined && rt.domains.get(host)) || rt.domains.get(hostName(host)) || rt.defaultDomain;
}

/** The rule whose path is the longest prefix of the request's decoded path (rules are kept longest first). */
function ruleOf(domain: DomainRuntime, url: string): RuleRuntime | undefined {
  const path = decodedPath(url);
  for (const r of domain.rules) if (path.startsWith(r.view.path)) return r;
  return undefined;
}

export class HttpPlane {
  /** Work done for the observers (the data-plane report): HTTP listeners configured, all applies together. */
  readonly counts = { listenersConfigured: 0 };
  private readonly listeners = new Map<string, Map<string, ListenerRuntime>>();
  private readonly rules = new Map<string, RuleState>();
  /** Requests since the last drain, by account and proxy (kept and zeroed in place: servers hold their proxy's). */
  private readonly requests = new Map<string, Map<string, Tally>>();
  /** The minute and value of the health point last written per rule origin binding. */
  private readonly healthWritten = new Map<string, string>();
  /** Requests per second a proxy is sized for (its Concurrent), the base of HttpQPSPercent. */
  private readonly capacity = new Map<string, number>();
  private readonly pools: OriginPools;
  /** The fast path's origin connections, by the same key as `pools`. */
  private readonly rawPools = new Map<string, RawOriginPool>();
  private readonly basicAuth = new BasicAuthGate();
  /**
   * Connections a reset or delay fault waits on, by the client's address and
   * port: an HTTPS request's socket is the TLS one, not the raw socket the
   * fault was decided on.
   */
  private readonly faulted = new Map<string, { fault: ConnectionFault; raw: Socket }>();
  /** In a forwarder process: each rule's origin health as the main process last sent it. */
  private readonly pushed = new Map<string, OriginHealthSpec[]>();

  /**
   * @param ticketKeys the keys TLS session tickets are sealed with: every
   * process serving the same listeners takes the same ones, so a client
   * resumes its session whichever process its next connection reaches.
   */
  constructor(
    private readonly settings: HttpPlaneSettings,
    private readonly events: HttpPlaneEvents,
    private readonly log: Logger,
    private readonly ticketKeys: Buffer = randomBytes(48),
  ) {
    this.pools = new OriginPools(settings.dataplaneHttpTimeoutMs);
  }

  /**
   * Brings one account's HTTP/HTTPS listeners in line with its views: the
   * listeners in `changed` are configured again (or dropped, when `views`
   * has them no more); the others keep their configuration. 'all': the
   * views are the account's whole set, and every listener is looked at.
   */
  async apply(account: string, proxies: readonly ForwardingProxy[], views: ReadonlyMap<string, HttpListener>, changed: ReadonlySet<string> | 'all'): Promise<void> {
    for (const p of proxies) this.capacity.set(p.proxyId, p.maxConnections);
    const listeners = this.listeners.get(account) ?? new Map<string, ListenerRuntime>();
    const ids = changed === 'all' ? new Set([...views.keys(), ...listeners.keys()]) : changed;
    for (const id of ids) {
      const l = views.get(id);
      let rt = listeners.get(id);
      if (!l) {
        if (!rt) continue;
        for (const pid of [...rt.bindings.keys()]) this.unbind(rt, pid);
        listeners.delete(id);
        continue;
      }
      if (!rt) {
        rt = { config: l, domains: new Map(), defaultDomain: undefined, fallback: undefined, onlyCertificate: undefined, bindings: new Map(), access: undefined };
        listeners.set(id, rt);
      }
      this.configure(account, rt, l);
      this.counts.listenersConfigured++;
    }
    this.listeners.set(account, listeners);
    if (ids.size > 0) {
      this.sweepRules();
      this.sweepPools();
    }
    // A forwarder's bindings are the sockets the main process hands it.
    if (this.events.remote) return;
    // Bindings follow the proxies' state too, which a commit can change without changing a view: each listener is looked at, in memory.
    const byId = new Map(proxies.map((p) => [p.proxyId, p]));
    const binds: Promise<void>[] = [];
    for (const rt of listeners.values()) {
      const l = rt.config;
      const wanted = new Map<string, string>();
      if (l.serving) {
        for (const pid of l.proxyIds) {
          const p = byId.get(pid);
          if (p?.serving && p.address) wanted.set(pid, this.settings.dataplaneHost || p.address);
        }
      }
      for (const [pid, b] of rt.bindings) if (wanted.get(pid) !== b.address || b.http3 !== l.http3) this.unbind(rt, pid);
      for (const [pid, address] of wanted) if (!rt.bindings.has(pid)) binds.push(this.bind(account, rt, pid, address));
    }
    await Promise.all(binds);
  }

  /** New settings for a listener: rules keep their origins' state; certificates reach new handshakes. */
  private configure(account: string, rt: ListenerRuntime, l: HttpListener): void {
    rt.config = l;
    rt.access = accessCheck(l.security, 'TCP', l.port);
    rt.domains = new Map();
    rt.defaultDomain = undefined;
    for (const d of l.domains) {
      const rules = d.rules.map((r): RuleRuntime => {
        const st = this.ruleState(account, r);
        const tlsKey = r.forwardProtocol === 'HTTPS' ? JSON.stringify(['https', r.serverName ?? null, r.originTls]) : undefined;
        const verifiesHost = tlsKey !== undefined && !!r.originTls.cas && r.originTls.verifyName == null && r.serverName == null;
        return { ...ruleHead(r, st.passive), origins: st.origins, tlsKey, verifiesHost, routes: new Map(), rawPools: new Map(), latin1: latin1Head(r) };
      });
      const dom = { view: d, rules };
      rt.domains.set(d.domain, dom);
      if (d.isDefault) rt.defaultDomain = dom;
    }
    if (l.protocol !== 'HTTPS') return;
    rt.fallback = l.certificate ?? rt.defaultDomain?.view.certificate;
    // Profiles no name uses any more take no new handshake; established connections keep the server that took them.
    const wanted = new Set([rt.fallback, ...l.domains.map((d) => d.certificate)].map((c) => c && profileKey(c, l.mutualAuth)));
    const fallbackKey = rt.fallback && profileKey(rt.fallback, l.mutualAuth);
    rt.onlyCertificate = fallbackKey && [...wanted].every((k) => k === undefined || k === fallbackKey) ? rt.fallback : undefined;
    for (const b of rt.bindings.values()) {
      for (const [key, p] of b.profiles) {
        if (wanted.has(key)) continue;
        b.profiles.delete(key);
        p.retired = true;
        if (p.open === 0) p.server.close();
      }
    }
  }

  /** A rule's origins with new settings: they keep their health; checks restart only when their settings or origins changed. */
  private ruleState(account: string, r: HttpRule): RuleState {
    const scheduling = schedulingOf(r);
    const checkKey = JSON.stringify([r.health, r.check, r.passive, r.forwardProtocol, r.serverName, r.originTls, r.origins.map((o) => [o.realServerId, o.address, o.port])]);
    let st = this.rules.get(r.ruleId);
    if (!st) {
      const origins = new OriginSet(scheduling);
      st = { account, origins, checkKey, reported: '', checker: this.checker(account, r, origins), passive: this.passive(account, r) };
      this.rules.set(r.ruleId, st);
    } else {
      st.origins.update(scheduling);
      if (st.checkKey !== checkKey) {
        st.checker?.stop();
        st.passive.stop();
        st.checker = this.checker(account, r, st.origins);
        st.passive = this.passive(account, r);
        st.checkKey = checkKey;
      }
    }
    const pushed = this.pushed.get(r.ruleId);
    if (pushed) applyHealth(st.origins.states, pushed);
    // New settings can change health without a check (checks turned off: every origin healthy); sent only if it differs.
    this.events.sharing?.health(r.ruleId, st.origins.states);
    const now = Date.now();
    if (!this.events.remote && recordLags(st.origins.states, (s) => effectiveHealthy(s, now))) {
      st.reported = '';
      void this.reportHealth(account, r.ruleId);
    }
    return st;
  }

  private checker(account: string, r: HttpRule, origins: OriginSet): HealthChecker | undefined {
    if (this.events.remote) return undefined;
    return new HealthChecker(origins, r.health, httpProbe(r), this.settings.dataplaneCheckScale, {
      changed: () => void this.reportHealth(account, r.ruleId),
    });
  }

  private passive(account: string, r: HttpRule): PassiveCheck {
    const remote = this.events.remote;
    // A forwarder's failures are counted where the rule's checks run; the block comes back with its health.
    if (remote) {
      // Only what can block, and not again once the block has arrived.
      const counts = blocks(r.passive, this.settings.dataplaneCheckScale);
      return { failed: (o, now) => counts && o.blockedUntil <= now && remote.failed(r.ruleId, o.key), stop: () => undefined };
    }
    return new PassiveHealth(r.passive, this.settings.dataplaneCheckScale, () => void this.reportHealth(account, r.ruleId));
  }

  private async reportHealth(account: string, ruleId: string): Promise<void> {
    const st = this.rules.get(ruleId);
    if (!st) return;
    this.events.sharing?.health(ruleId, st.origins.states);
    const now = Date.now();
    const health = st.origins.states.map((s) => ({ realServerId: s.origin.realServerId, port: s.origin.port, healthy: effectiveHealthy(s, now), downIps: s.downIps, unresolved: s.unresolved }));
    const key = JSON.stringify(health);
    if (key === st.reported) return;
    st.reported = key;
    try {
      await this.events.ruleHealth(account, ruleId, health);
    } catch (err) {
      this.log.warn({ err, ruleId }, 'data plane: reporting rule health failed');
    }
  }

  /** Rules no listener has any more stop their checks and are forgotten. */
  private sweepRules(): void {
    const live = new Set<string>();
    for (const listeners of this.listeners.values()) {
      for (const rt of listeners.values()) for (const d of rt.domains.values()) for (const r of d.rules) live.add(r.view.ruleId);
    }
    for (const [id, st] of this.rules) {
      if (live.has(id)) continue;
      st.checker?.stop();
      st.passive.stop();
      this.events.sharing?.health(id, undefined);
      this.pushed.delete(id);
      for (const s of st.origins.states) this.healthWritten.delete(s.key + originEntity(s.origin.realServerId, id).id);
      this.rules.delete(id);
    }
  }

  /** Origins no rule names any more (or names with other TLS settings) lose their pooled connections. */
  private sweepPools(): void {
    const live = new Set<string>();
    for (const listeners of this.listeners.values()) {
      for (const rt of listeners.values()) {
        for (const d of rt.domains.values()) for (const r of d.rules) for (const s of r.origins.states) live.add(poolBase(r, s));
      }
    }
    this.pools.retain(live);
    for (const [key, pool] of this.rawPools) {
      if (live.has(key)) continue;
      pool.close();
      this.rawPools.delete(key);
    }
  }

  /** The way to a rule's origin: its pool, and a one-connection client for a resend. */
  private routeTo(rr: RuleRuntime, origin: OriginState, host: string): OriginRoute {
    if (!rr.verifiesHost) {
      let route = rr.routes.get(origin);
      if (!route) rr.routes.set(origin, (route = this.makeRoute(rr, origin, '')));
      return route;
    }
    return this.makeRoute(rr, origin, hostName(host));
  }

  private makeRoute(rr: RuleRuntime, origin: OriginState, host: string): OriginRoute {
    const base = poolBase(rr, origin);
    const target = (): OriginTarget => {
      const { address, port } = origin.origin;
      if (!rr.tlsKey) return { address, port, tls: undefined };
      return { address, port, tls: originTlsOptions(rr.view.originTls, rr.view.serverName, host) };
    };
    return { pool: this.pools.get(host ? `${base}|${host}` : base, base, target), fresh: () => this.pools.fresh(target()), timeoutMs: this.settings.dataplaneHttpTimeoutMs };
  }

  /** The HTTP server of a binding, or for HTTPS one of its TLS profiles (fed by the front, never listening itself). */
  private server(rt: ListenerRuntime, account: string, proxyId: string, b: Binding, tls?: TlsOptions): HttpServer | HttpsServer {
    const tally = this.tally(account, proxyId);
    const https = rt.config.protocol === 'HTTPS';
    const handler = (req: IncomingMessage, res: ServerResponse) => {
      countRequest(b, tally, https);
      const refused = requestRefusal(req);
      if (refused) return this.refuse(res, refused);
      if (this.faulted.size > 0 && this.faultFirst(req, () => this.handle(rt, req, res, tally))) return;
      this.handle(rt, req, res, tally);
    };
    const limits = { clientTimeoutMs: this.settings.dataplaneHttpClientTimeoutMs, keepaliveMs: this.settings.dataplaneHttpKeepaliveMs };
    const server = tls ? createHttpsServer({ ...serverOptions(limits), ...tls, ticketKeys: this.ticketKeys }, handler) : createHttpServer(serverOptions(limits), handler);
    guardServer(server, limits);
    // The fast path reads each connection (for HTTPS, once its handshake is done) before Node's own listener, and hands it over when a request is not plain.
    const event = tls ? 'secureConnection' : 'connection';
    const nodeListener = server.listeners(event)[0] as ((socket: Socket) => void) | undefined;
    if (nodeListener) server.removeAllListeners(event);
    const serve = (socket: Socket) => {
      if (!nodeListener) return;
      // A connection with a fault waiting goes to Node's server, where faults are applied.
      if (this.faulted.size > 0) return nodeListener.call(server, socket);
      new FastClient(socket, limits, (req) => this.fastPlan(rt, b, tally, req, socket), (rest, ended) => {
        nodeListener.call(server, socket);
        if (rest) socket.emit('data', rest);
        if (ended) socket.emit('end');
      });
    };
    // Security policies judge each new connection (HTTP rides on TCP), as for TCP listeners (the front of HTTPS has judged it already); then the proxy's Concurrent cap.
    server.on('connection', (socket: Socket) => {
      if (!tls && rt.access && !rt.access(unmapped(socket.remoteAddress ?? ''))) return socket.resetAndDestroy();
      if (!b.clients.admit(socket)) return socket.resetAndDestroy();
      this.opened(b, socket, proxyId, rt.config.listenerId);
      if (!tls) serve(socket);
    });
    if (tls) server.on('secureConnection', serve);
    server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      countRequest(b, tally, https);
      if (this.faulted.size > 0 && this.faultFirst(req, () => this.upgrade(rt, req, socket, head, tally))) return;
      this.upgrade(rt, req, socket, head, tally);
    });
    return server;
  }

  /**
   * The listening side of an HTTPS binding: it reads each client's SNI and
   * hands the connection to the profile of the name asked for (the
   * domain's certificate and TLS settings, else the listener's).
   */
  private front(rt: ListenerRuntime, account: string, proxyId: string, b: Binding): NetServer {
    return createNetServer({ noDelay: true }, (socket) => {
      if (rt.access && !rt.access(unmapped(socket.remoteAddress ?? ''))) return socket.resetAndDestroy();
      b.sockets.add(socket);
      socket.on('close', () => b.sockets.delete(socket));
      const handOver = (served: ServedCertificate | undefined) => {
        const profile = served && this.profile(rt, account, proxyId, b, served);
        if (!profile) return socket.destroy();
        profile.open++;
        socket.once('close', () => {
          if (--profile.open === 0 && profile.retired) profile.server.close();
        });
        profile.server.emit('connection', socket);
      };
      // One certificate for every name: the TLS server reads the ClientHello itself (its handshake timeout is the client timeout).
      if (rt.onlyCertificate) return handOver(rt.onlyCertificate);
      // A client that sends no ClientHello is as slow as one that sends no request head: the same client timeout ends it.
      peekServerName(socket, this.settings.dataplaneHttpClientTimeoutMs, (name) => handOver((name && rt.domains.get(name)?.view.certificate) || rt.fallback));
    });
  }

  /** The binding's server for one TLS profile, made on first use; undefined when the certificate cannot be served. */
  private profile(rt: ListenerRuntime, account: string, proxyId: string, b: Binding, served: ServedCertificate): Profile | undefined {
    const known = b.profileOf.get(served);
    if (known && !known.retired && known.mutualAuth === rt.config.mutualAuth) return known;
    const key = profileKey(served, rt.config.mutualAuth);
    let profile = b.profiles.get(key);
    if (!profile) {
      let server: HttpsServer;
      try {
        server = this.server(rt, account, proxyId, b, {
          ...tlsOptions(served),
          // Mutual authentication: a client without a certificate from the CAs of the name it asked for fails the handshake.
          requestCert: rt.config.mutualAuth,
          rejectUnauthorized: rt.config.mutualAuth,
        }) as HttpsServer;
      } catch (err) {
        this.log.warn({ err, certificateId: served.certificateId }, 'data plane: a certificate cannot be served');
        return undefined;
      }
      // Node's HTTP server tracks its connections (request and header timeouts) from 'listening' on; this one never listens itself.
      server.emit('listening');
      b.profiles.set(key, (profile = { server, open: 0, retired: false, mutualAuth: rt.config.mutualAuth }));
    }
    b.profileOf.set(served, profile);
    return profile;
  }

  /** A binding's state before its socket: counted against the ledger given (a forwarder's own for each handed socket). */
  private newBinding(account: string, rt: ListenerRuntime, proxyId: string, address: string, ledger: ConnectionLedger): { b: Binding; entities: Entity[] } {
    const l = rt.config;
    const entities: Entity[] = [entity('listener', l.listenerId), entity('proxy', proxyId)];
    if (l.groupId) entities.push(entity('group', l.groupId));
    const b: Binding = {
      http3: l.http3, address, port: l.port, server: undefined, error: undefined, profiles: new Map(), profileOf: new WeakMap(), sockets: new Set(),
      counters: new BindingCounters(), clients: new ClientConnections(account, proxyId, entities, ledger), udp: undefined, udpError: undefined, bound: undefined, shared: undefined, shed: 0,
    };
    rt.bindings.set(proxyId, b);
    return { b, entities };
  }

  private async bind(account: string, rt: ListenerRuntime, proxyId: string, address: string): Promise<void> {
    const l = rt.config;
    const { b, entities } = this.newBinding(account, rt, proxyId, address, this.events.connections);
    if (!this.settings.dataplaneHost && !isLoopback(address)) {
      b.error = `the proxy's address ${address} is not a loopback address (set the data-plane host to bind another)`;
      return;
    }
    const mapped = this.settings.sharedAddress || address === '::1';
    const bound = await bindListenerPort(l.port, { offset: this.settings.dataplanePortOffset, shared: mapped, forwarders: !!this.events.sharing }, async (port) => {
      const server = l.protocol === 'HTTPS' ? this.front(rt, account, proxyId, b) : this.server(rt, account, proxyId, b);
      try {
        const at = await this.listenOn(server, account, l.listenerId, proxyId, b, entities, address, port);
        b.server = server;
        return at;
      } catch (err) {
        server.close();
        throw err;
      }
    });
    if ('port' in bound) {
      b.port = bound.port;
      if (rt.bindings.get(proxyId) !== b) {
        this.release(b);
        return;
      }
      b.server!.on('error', (err) => this.log.warn({ err, listenerId: l.listenerId }, 'data plane: listener socket error'));
      if (l.http3) await this.holdUdp(b, l.listenerId);
      return;
    }
    b.error = bindErrorText(bound.error);
    this.log.warn({ listenerId: l.listenerId, proxyId, address, port: l.port, error: b.error }, 'data plane: a listener could not be bound');
  }

  /**
   * One attempt at a binding's socket: with forwarder processes, bound here
   * and handed to them (this process listens only if none takes it up in
   * time); else listening here. Resolves with the port; nothing is left open
   * on failure.
   */
  private async listenOn(server: NetServer, account: string, listenerId: string, proxyId: string, b: Binding, entities: Entity[], address: string, port: number): Promise<number> {
    let shared;
    try {
      shared = await this.events.sharing?.bind(account, listenerId, proxyId, address, port, entities, b.counters, (id) => (b.shared = id));
    } catch (err) {
      b.shared = undefined;
      throw err;
    }
    if (!shared) return listen(server, address, port);
    b.bound = shared.bound;
    if (shared.answer === 'listening') return shared.bound.port;
    return acceptInstead(this.log, listenerId, server, shared.bound, () => this.release(b));
  }

  /** Lets go of a binding's socket, here and in the forwarder processes. */
  private release(b: Binding): void {
    if (b.shared !== undefined) this.events.sharing?.unbind(b.shared);
    b.shared = undefined;
    b.server?.close();
    b.bound?.close();
    b.bound = undefined;
  }

  /**
   * A forwarder process's binding: listens on the socket the main process
   * bound for this listener on this proxy, when it is handed (else later,
   * `acceptOn`); its connections are counted into `ledger`. Resolves with
   * the binding's cumulative counters; throws the listen's error.
   */
  async attach(account: string, listenerId: string, proxyId: string, handle: object | undefined, ledger: ConnectionLedger): Promise<BindingCounters> {
    const rt = this.listeners.get(account)?.get(listenerId);
    if (!rt) throw Object.assign(new Error(`no HTTP listener ${listenerId} is known here`), { code: 'ENOENT' });
    if (rt.bindings.has(proxyId)) this.unbind(rt, proxyId);
    const { b } = this.newBinding(account, rt, proxyId, '', ledger);
    // A front, for HTTP too: accepting can stop and start again (accept-turns.ts) while the server and its connections go on.
    const server = rt.config.protocol === 'HTTPS' ? this.front(rt, account, proxyId, b) : this.plainFront(rt, account, proxyId, b);
    try {
      if (handle) b.port = await listen(server, '', 0, handle);
    } catch (err) {
      server.close();
      this.closeProfiles(b);
      if (rt.bindings.get(proxyId) === b) rt.bindings.delete(proxyId);
      throw err;
    }
    b.server = server;
    server.on('error', () => undefined);
    if (rt.bindings.get(proxyId) !== b) server.close();
    return b.counters;
  }

  /** A listener's binding on one proxy, if this process has it. */
  private bindingOf(account: string, listenerId: string, proxyId: string): Binding | undefined {
    return this.listeners.get(account)?.get(listenerId)?.bindings.get(proxyId);
  }

  /** A forwarder process's binding starts accepting on the handed socket. */
  async acceptOn(account: string, listenerId: string, proxyId: string, handle: object): Promise<void> {
    const server = this.bindingOf(account, listenerId, proxyId)?.server;
    if (!server) throw Object.assign(new Error(`no HTTP listener ${listenerId} is bound here on ${proxyId}`), { code: 'ENOENT' });
    if (server.listening) throw Object.assign(new Error(`HTTP listener ${listenerId} already accepts here on ${proxyId}`), { code: 'EALREADY' });
    await listen(server, '', 0, handle);
  }

  /** A forwarder process's binding stops accepting; its connections go on. */
  stopAccepting(account: string, listenerId: string, proxyId: string): void {
    const server = this.bindingOf(account, listenerId, proxyId)?.server;
    if (server?.listening) server.close();
  }

  /** A forwarder process holds more of the binding's connections than its share: `count` of them close after their next answer. */
  shed(account: string, listenerId: string, proxyId: string, count: number): void {
    const b = this.bindingOf(account, listenerId, proxyId);
    if (b) b.shed = Math.max(0, Math.min(count, b.sockets.size));
  }

  /** A plain HTTP binding's front in a forwarder process: hands each connection to the binding's HTTP server, which never listens itself. */
  private plainFront(rt: ListenerRuntime, account: string, proxyId: string, b: Binding): NetServer {
    const server = this.server(rt, account, proxyId, b);
    // Node's HTTP server tracks its connections (request and header timeouts) from 'listening' on.
    server.emit('listening');
    b.profiles.set('plain', { server, open: 0, retired: false, mutualAuth: false });
    return createNetServer({ noDelay: true }, (socket) => server.emit('connection', socket));
  }

  private closeProfiles(b: Binding): void {
    for (const p of b.profiles.values()) {
      p.retired = true;
      p.server.close();
      p.server.closeAllConnections();
    }
  }

  /** A forwarder process stops accepting on a handed socket and ends its connections. */
  detach(account: string, listenerId: string, proxyId: string): void {
    const rt = this.listeners.get(account)?.get(listenerId);
    if (rt?.bindings.has(proxyId)) this.unbind(rt, proxyId);
  }

  /** A forwarder process: a rule's origin health as the main process's checks see it (undefined: the rule is gone). */
  setRuleHealth(ruleId: string, health: OriginHealthSpec[] | undefined): void {
    if (!health) {
      this.pushed.delete(ruleId);
      return;
    }
    this.pushed.set(ruleId, health);
    const st = this.rules.get(ruleId);
    if (st) applyHealth(st.origins.states, health);
  }

  /** A request a forwarder process forwarded failed at its origin: counted as one of this process's own (passive checks). */
  originFailed(ruleId: string, originKey: string): void {
    const st = this.rules.get(ruleId);
    const o = st?.origins.states.find((s) => s.key === originKey);
    if (st && o) st.passive.failed(o, Date.now());
  }

  /** A forwarder process: the requests counted per proxy since the last call (taken, so zeroed here). */
  takeRequests(): Tally[] {
    const out: Tally[] = [];
    for (const m of this.requests.values()) {
      for (const t of m.values()) {
        if (t.http === 0 && t.https === 0 && t.answered === 0) continue;
        out.push({ ...t });
        Object.assign(t, { http: 0, https: 0, latencyMs: 0, answered: 0 });
      }
    }
    return out;
  }

  /** Requests a forwarder process served, added into this process's counts. */
  addRequests(list: readonly Tally[]): void {
    for (const r of list) {
      const t = this.tally(r.account, r.proxyId);
      t.http += r.http;
      t.https += r.https;
      t.latencyMs += r.latencyMs;
      t.answered += r.answered;
    }
  }

  /**
   * Http3Supported: the UDP port of the bound TCP port is held, so that
   * nothing else takes it, and answers nothing (Node has no QUIC server).
   */
  private async holdUdp(b: Binding, listenerId: string): Promise<void> {
    const udp = createSocket({ type: isIP(b.address) === 6 ? 'udp6' : 'udp4', reuseAddr: false });
    try {
      await new Promise<void>((resolve, reject) => {
        udp.once('error', reject);
        udp.bind({ address: b.address, port: b.port, exclusive: true }, () => {
          udp.off('error', reject);
          resolve();
        });
      });
      udp.on('error', () => undefined);
      b.udp = udp;
    } catch (err) {
      udp.close();
      const e = err as NodeJS.ErrnoException;
      b.udpError = `${e.code ?? 'error'}: ${e.message}`;
      this.log.warn({ listenerId, address: b.address, port: b.port, error: b.udpError }, 'data plane: the HTTP/3 UDP port could not be held');
    }
  }

  private unbind(rt: ListenerRuntime, proxyId: string): void {
    const b = rt.bindings.get(proxyId);
    rt.bindings.delete(proxyId);
    b?.udp?.close();
    if (!b?.server) return;
    this.release(b);
    // The proxy or listener stopped serving: its traffic stops with it.
    if ('closeAllConnections' in b.server) b.server.closeAllConnections();
    this.closeProfiles(b);
    for (const s of b.sockets) s.destroy();
  }

  /** Counts a new client connection and decides its fault: refuse resets it now; reset and delay wait for its first request. */
  private opened(b: Binding, socket: Socket, proxyId: string, listenerId: string): void {
    b.counters.accepted++;
    b.sockets.add(socket);
    socket.once('close', () => {
      b.sockets.delete(socket);
      b.counters.bytesIn += socket.bytesRead;
      b.counters.bytesOut += socket.bytesWritten;
    });
    const fault = this.events.connectionFault?.(proxyId, listenerId);
    if (!fault) return;
    if (fault.effect === 'refuse') return void socket.resetAndDestroy();
    const key = peerKey(socket);
    this.faulted.set(key, { fault, raw: socket });
    socket.once('close', () => this.faulted.get(key)?.raw === socket && this.faulted.delete(key));
  }

  /** A faulted connection's first request: reset the connection, or answer it after the delay. True when the fault took the request. */
  private faultFirst(req: IncomingMessage, proceed: () => void): boolean {
    const key = peerKey(req.socket);
    const f = this.faulted.get(key);
    if (!f) return false;
    this.faulted.delete(key);
    if (f.fault.effect === 'reset') {
      f.raw.resetAndDestroy();
      return true;
    }
    setTimeout(() => req.socket.destroyed || proceed(), f.fault.delayMs);
    return true;
  }

  /** The domain, rule and origin of a request, or the status the proxy answers itself. */
  private route(req: IncomingMessage, domain: DomainRuntime | undefined, clientIp: string): { domain: DomainRuntime | undefined; rule?: RuleRuntime; origin?: OriginState; status: number; reason: string } {
    if (!domain) return { domain, status: 404, reason: 'no domain of this listener serves this host' };
    const rule = ruleOf(domain, req.url ?? '/');
    if (!rule) return { domain, status: 404, reason: 'no rule of this domain matches the path' };
    const origin = rule.origins.pick(clientIp, Date.now());
    if (!origin) return { domain, rule, status: 502, reason: 'no origin is available' };
    return { domain, rule, origin, status: 0, reason: '' };
  }

  /**
   * Basic authentication of the request's domain: true when the domain asks
   * for none or accepts the credentials, false when it refuses them, a
   * promise while a costly hash is checked.
   */
  private admitted(domain: DomainRuntime | undefined, req: IncomingMessage): boolean | Promise<boolean> {
    const auth = domain?.view.basicAuth;
    return auth ? this.basicAuth.allows(auth, req) : true;
  }

  private handle(rt: ListenerRuntime, req: IncomingMessage, res: ServerResponse, tally: Tally): void {
    const domain = domainOf(rt, req.headers.host);
    const verdict = this.admitted(domain, req);
    if (verdict === true) return this.serve(rt, req, res, domain, tally);
    const refuse = () => {
      if (!domain) return;
      // The domain's error page for 401 gives the body; the challenge stays unless the page clears it.
      const page = errorPage(domain.view, 401);
      if (page) sendPage(res, page, 401, { 'www-authenticate': challengeOf(domain.view.domain) });
      else challenge(res, domain.view.domain);
    };
    if (verdict === false) return refuse();
    verdict.then((ok) => (ok ? this.serve(rt, req, res, domain, tally) : refuse()), refuse);
  }

  private serve(rt: ListenerRuntime, req: IncomingMessage, res: ServerResponse, domain: DomainRuntime | undefined, tally: Tally): void {
    const clientIp = unmapped(req.socket.remoteAddress ?? '');
    const r = this.route(req, domain, clientIp);
    if (r.rule && r.rule.view.forcedRedirect && rt.config.protocol === 'HTTP') return redirect(req, res, r.rule.view.forcedRedirect);
    if (!r.rule || !r.origin || !r.domain) return proxyAnswer(res, r.domain?.view, r.status, r.reason);
    this.forward(req, res, r.domain.view, r.rule, r.origin, clientIp, rt.config.protocol === 'HTTPS' ? 'https' : 'http', tally);
  }

  /** A request refused before routing: its status, and the connection closes (its body, if any, is not read). */
  private refuse(res: ServerResponse, status: number): void {
    const body = `${status} ${STATUS_CODES[status] ?? ''}\n`;
    res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'content-length': Buffer.byteLength(body), connection: 'close' });
    res.end(body);
  }

  /** A WebSocket (or other) upgrade: once the origin switches protocols, bytes pass through both ways. */
  private upgrade(rt: ListenerRuntime, req: IncomingMessage, client: Duplex, head: Buffer, tally: Tally): void {
    client.on('error', () => client.destroy());
    const refused = requestRefusal(req);
    if (refused) return closeWith(client, refused);
    const domain = domainOf(rt, req.headers.host);
    const verdict = this.admitted(domain, req);
    if (verdict === true) return this.passUpgrade(rt, req, client, head, domain, tally);
    const refuse = () => {
      if (!domain) return void client.end(rawChallenge(''));
      // As for other requests: the domain's error page for 401 gives the body, and the challenge stays unless the page clears it.
      const page = errorPage(domain.view, 401);
      client.end(page ? rawPage(page, 401, { 'www-authenticate': challengeOf(domain.view.domain) }) : rawChallenge(domain.view.domain));
    };
    if (verdict === false) return refuse();
    verdict.then((ok) => (ok ? this.passUpgrade(rt, req, client, head, domain, tally) : refuse()), refuse);
  }

  private passUpgrade(rt: ListenerRuntime, req: IncomingMessage, client: Duplex, head: Buffer, domain: DomainRuntime | undefined, tally: Tally): void {
    const refuse = (status: number, reason: string): void => void client.end(rawProxyRefusal(domain?.view, status, reason));
    const clientIp = unmapped(req.socket.remoteAddress ?? '');
    const r = this.route(req, domain, clientIp);
    if (!r.rule || !r.origin) return refuse(r.status, r.reason);
    const { rule, origin } = r;
    const headers = requestHead(req.headers, rule, clientIp, rt.config.protocol === 'HTTPS' ? 'https' : 'http');
    headers.push('connection', 'Upgrade');
    if (req.headers.upgrade) headers.push('upgrade', req.headers.upgrade);
    const https = rule.view.forwardProtocol === 'HTTPS';
    const up = (https ? httpsRequest : httpRequest)({
      host: origin.origin.address, port: origin.origin.port, method: req.method, path: req.url, headers, agent: false,
      timeout: this.settings.dataplaneHttpTimeoutMs,
      ...(https ? originTlsOptions(rule.view.originTls, rule.view.serverName, hostName(upstreamHost(req.headers, rule))) : {}),
    });
    const done = holdOrigin(origin);
    // The origin answered, or the client left first: an error after that is not the origin's failure.
    let settled = false;
    client.on('close', () => {
      settled = true;
      up.destroy();
      done();
    });
    up.on('upgrade', (upRes, upSocket, upHead) => {
      settled = true;
      upSocket.setTimeout(0);
      const lines = [`HTTP/1.1 ${upRes.statusCode} ${upRes.statusMessage ?? ''}`];
      for (let i = 0; i < upRes.rawHeaders.length; i += 2) lines.push(`${upRes.rawHeaders[i]}: ${upRes.rawHeaders[i + 1]}`);
      client.write(`${lines.join('\r\n')}\r\n\r\n`);
      if (upHead.length) client.write(upHead);
      if (head.length) upSocket.write(head);
      upSocket.on('error', () => client.destroy());
      upSocket.on('close', () => client.destroy());
      client.on('close', () => upSocket.destroy());
      const limits = this.events.connections.limits(tally.account, tally.proxyId);
      if (limits) {
        pacedPipe(client, upSocket, limits.in);
        pacedPipe(upSocket, client, limits.out);
      } else {
        upSocket.pipe(client);
        client.pipe(upSocket);
      }
    });
    // The origin declined the upgrade: its answer goes back as it is, and the connection closes.
    up.on('response', (upRes) => {
      settled = true;
      // A declined upgrade whose status the domain lists gets its error page, as any other answer does.
      const page = domain && errorPage(domain.view, upRes.statusCode ?? 0);
      if (page) {
        upRes.resume();
        client.end(rawPage(page, upRes.statusCode ?? 0, headerObject(responseHead(upRes.rawHeaders.map((h) => Buffer.from(h, 'latin1'))))));
        return;
      }
      const lines = [`HTTP/1.1 ${upRes.statusCode} ${upRes.statusMessage ?? ''}`];
      for (let i = 0; i < upRes.rawHeaders.length; i += 2) {
        if (!HOP_BY_HOP.has(upRes.rawHeaders[i].toLowerCase())) lines.push(`${upRes.rawHeaders[i]}: ${upRes.rawHeaders[i + 1]}`);
      }
      lines.push('Connection: close');
      client.write(`${lines.join('\r\n')}\r\n\r\n`);
      upRes.pipe(client);
    });
    up.on('timeout', () => up.destroy(Object.assign(new Error('the origin did not answer in time'), { code: 'ETIMEDOUT' })));
    up.on('error', (err: NodeJS.ErrnoException) => {
      done();
      if (!settled) requestFailed(rule, origin, this.settings.dataplaneHttpTimeoutMs);
      const failure = originFailure(err);
      if (client.writable) refuse(failure.status, failure.reason);
    });
    up.end();
  }

  private forward(req: IncomingMessage, res: ServerResponse, domain: HttpDomain, rr: RuleRuntime, origin: OriginState, clientIp: string, scheme: string, tally: Tally): void {
    const route = this.routeTo(rr, origin, rr.verifiesHost ? upstreamHost(req.headers, rr) : '');
    const body = hasBody(req);
    // The proxy's Bandwidth: request bodies draw on its inbound bucket, answers on its outbound one.
    const limits = this.events.connections.limits(tally.account, tally.proxyId);
    const exchange = new Exchange(req, res, domain, rr, origin, tally, limits, route, requestHead(req.headers, rr, clientIp, scheme), body);
    res.on('close', () => exchange.clientClosed());
    if (body) watchBody(req, this.settings.dataplaneHttpClientTimeoutMs, () => exchange.stalled());
    exchange.send();
  }

  /**
   * The fast path's plan for a plain request (`http-fast.ts`), or undefined
   * when Node's server must take it: basic authentication, error pages, a
   * forced redirect, HTTPS origins, a pending fault, or no
   * origin to send it to. Counted and routed as `handle` does.
   */
  private fastPlan(rt: ListenerRuntime, b: Binding, tally: Tally, req: PlainRequest, socket: Socket): FastExchange | undefined {
    if (this.faulted.size > 0) return undefined;
    const domain = domainOf(rt, req.headers.host);
    if (!domain || domain.view.basicAuth || domain.view.errorPages.length > 0) return undefined;
    const rule = ruleOf(domain, req.url);
    const https = rt.config.protocol === 'HTTPS';
    if (!rule || rule.tlsKey !== undefined || !rule.latin1 || (rule.view.forcedRedirect && !https)) return undefined;
    const clientIp = unmapped(socket.remoteAddress ?? '');
    const origin = rule.origins.pick(clientIp, Date.now());
    if (!origin) return undefined;
    countRequest(b, tally, https);
    const headers = requestHead(req.headers, rule, clientIp, https ? 'https' : 'http');
    let head = `${req.method} ${req.url} HTTP/1.1`;
    for (let i = 0; i < headers.length; i += 2) head += `\r\n${headers[i]}: ${headers[i + 1]}`;
    const close = b.shed > 0;
    if (close) b.shed--;
    return {
      close,
      pool: this.rawPool(rule, origin),
      head,
      limits: this.events.connections.limits(tally.account, tally.proxyId),
      answered: (ms) => {
        tally.latencyMs += ms;
        tally.answered++;
        measureRtt(origin, ms);
      },
      done: holdOrigin(origin),
      failed: (err) => {
        requestFailed(rule, origin, this.settings.dataplaneHttpTimeoutMs);
        return originFailure(err);
      },
    };
  }

  /** The fast path's connections to a plain HTTP origin, shared by every rule that reaches it. */
  private rawPool(rr: RuleRuntime, origin: OriginState): RawOriginPool {
    let pool = rr.rawPools.get(origin);
    if (pool) return pool;
    const key = poolBase(rr, origin);
    pool = this.rawPools.get(key);
    if (!pool) this.rawPools.set(key, (pool = new RawOriginPool(origin.origin.address, origin.origin.port, ORIGIN_IDLE_MS, this.settings.dataplaneHttpTimeoutMs)));
    rr.rawPools.set(origin, pool);
    return pool;
  }

  private tally(account: string, proxyId: string): Tally {
    let m = this.requests.get(account);
    if (!m) this.requests.set(account, (m = new Map()));
    let t = m.get(proxyId);
    if (!t) m.set(proxyId, (t = { account, proxyId, http: 0, https: 0, latencyMs: 0, answered: 0 }));
    return t;
  }

  /** Counts the bytes of open client connections (closed ones counted themselves). */
  sampleConnections(): void {
    for (const listeners of this.listeners.values()) for (const rt of listeners.values()) for (const b of rt.bindings.values()) b.clients.sample();
  }

  /**
   * Points since the last call, per proxy: HttpQPS and HttpsQPS (requests per
   * second, added into the minute), their share of the proxy's capacity in
   * percent (Concurrent × 10,000 requests per second), and Latency, the mean
   * ms origins took to begin their answers (the minute keeps its highest).
   */
  drain(nowSeconds: number): Map<string, CounterPoint[]> {
    const out = new Map<string, CounterPoint[]>();
    for (const [account, m] of this.requests) {
      const points: CounterPoint[] = [];
      for (const [id, t] of m) {
        const point = (metric: string, value: number, merge: CounterPoint['merge']) => points.push({ scope: 'proxy', id, metric, at: nowSeconds, value, merge });
        const capacity = this.capacity.get(id) ?? 0;
        if (t.http > 0) point('HttpQPS', t.http / 60, 'sum');
        if (t.https > 0) point('HttpsQPS', t.https / 60, 'sum');
        if (t.http > 0 && capacity > 0) point('HttpQPSPercent', (t.http / 60 / capacity) * 100, 'sum');
        if (t.https > 0 && capacity > 0) point('HttpsQPSPercent', (t.https / 60 / capacity) * 100, 'sum');
        if (t.answered > 0) point('Latency', t.latencyMs / t.answered, 'max');
        Object.assign(t, { http: 0, https: 0, latencyMs: 0, answered: 0 });
      }
      if (points.length > 0) out.set(account, points);
    }
    this.healthPoints(nowSeconds, out);
    return out;
  }

  /**
   * One health point per rule origin binding (`<rs>@<rule>`) and minute, 1
   * normal or 0 abnormal, as the TCP side writes for listeners: what
   * DescribeRealServerStatistics reads for a RuleId.
   */
  private healthPoints(nowSeconds: number, out: Map<string, CounterPoint[]>): void {
    const minute = Math.floor(nowSeconds / 60);
    const now = nowSeconds * 1000;
    for (const [ruleId, st] of this.rules) {
      for (const s of st.origins.states) {
        const { id } = originEntity(s.origin.realServerId, ruleId);
        const value = effectiveHealthy(s, now) ? 1 : 0;
        const mark = `${minute}|${value}`;
        // Bindings of one real server on several ports share its series (the minute keeps the lowest).
        if (this.healthWritten.get(s.key + id) === mark) continue;
        this.healthWritten.set(s.key + id, mark);
        let points = out.get(st.account);
        if (!points) out.set(st.account, (points = []));
        points.push({ scope: 'realServer', id, metric: 'Health', at: nowSeconds, value, merge: 'min' });
      }
    }
  }

  /** Client connections the forwarder processes hold open on a binding. */
  private openElsewhere(b: Binding): number {
    return b.shared !== undefined ? this.events.sharing?.open(b.shared) ?? 0 : 0;
  }

  /** Client connections the forwarder processes hold open through one proxy. */
  openInWorkers(proxyId: string): number {
    if (!this.events.sharing) return 0;
    let n = 0;
    for (const listeners of this.listeners.values()) {
      for (const rt of listeners.values()) {
        const b = rt.bindings.get(proxyId);
        if (b) n += this.openElsewhere(b);
      }
    }
    return n;
  }

  /** The HTTP/HTTPS listeners bound on one proxy, in the shape of GET /_tclocal/dataplane. */
  status(proxyId: string): unknown[] {
    const out = [];
    for (const listeners of this.listeners.values()) {
      for (const rt of listeners.values()) {
        if (!rt.config.proxyIds.includes(proxyId)) continue;
        const b = rt.bindings.get(proxyId);
        out.push({
          listenerId: rt.config.listenerId,
          protocol: rt.config.protocol,
          port: rt.config.port,
          groupId: rt.config.groupId,
          bound: b && !b.error && b.server ? { address: b.address, port: b.port } : null,
          error: b?.error ?? null,
          connections: b ? b.clients.size + this.openElsewhere(b) : 0,
          ...(rt.config.http3 ? { http3: { bound: b?.udp ? { address: b.address, port: b.port } : null, error: b?.udpError ?? null } } : {}),
          domains: [...rt.domains.values()].map((d) => ({
            domain: d.view.domain,
            isDefault: d.view.isDefault,
            rules: d.rules.map((r) => ({
              ruleId: r.view.ruleId,
              path: r.view.path,
              origins: r.origins.states.map((s) => ({ realServerId: s.origin.realServerId, address: s.origin.address, port: s.origin.port, healthy: effectiveHealthy(s, Date.now()), blocked: s.blockedUntil > Date.now(), connections: s.active })),
            })),
          })),
        });
      }
    }
    return out;
  }

  /** Cumulative counters and live origin health of the HTTP/HTTPS listeners, by proxy. */
  traffic(): Map<string, ListenerLive[]> {
    const out = new Map<string, ListenerLive[]>();
    for (const listeners of this.listeners.values()) {
      for (const rt of listeners.values()) {
        const origins = [...rt.domains.values()].flatMap((d) => d.rules.flatMap((r) => r.origins.states.map((s) => ({
          realServerId: s.origin.realServerId, ruleId: r.view.ruleId, address: s.origin.address, port: s.origin.port, healthy: s.healthy, connections: s.active,
        }))));
        for (const proxyId of rt.config.proxyIds) {
          const b = rt.bindings.get(proxyId);
          const list = out.get(proxyId) ?? [];
          out.set(proxyId, list);
          list.push({
            listenerId: rt.config.listenerId,
            protocol: rt.config.protocol,
            bound: b && !b.error && b.server ? `${b.address}:${b.port}` : undefined,
            connections: b ? b.sockets.size + this.openElsewhere(b) : 0,
            accepted: b?.counters.accepted ?? 0,
            ...(b ? b.counters.bytesWith(b.sockets) : { bytesIn: 0, bytesOut: 0 }),
            requests: b?.counters.requests ?? 0,
            origins,
          });
        }
      }
    }
    return out;
  }

  stop(): void {
    for (const listeners of this.listeners.values()) {
      for (const rt of listeners.values()) for (const pid of [...rt.bindings.keys()]) this.unbind(rt, pid);
    }
    this.listeners.clear();
    for (const st of this.rules.values()) {
      st.checker?.stop();
      st.passive.stop();
    }
    this.rules.clear();
    this.pools.closeAll();
    for (const pool of this.rawPools.values()) pool.close();
    this.rawPools.clear();
  }
}

/**
 * OpenSSL cipher lists of GAAP's profiles (TLS 1.2 and older; TLS 1.3 suites
 * are all strong and always offered). WIDE also lowers the security level,
 * without which OpenSSL 3 refuses TLS 1.0 and 1.1.
 */
export const CIPHER_PROFILES: Record<string, string> = {
  GAAP_TLS_CIPHERS_STRICT: 'ECDHE+AESGCM:ECDHE+CHACHA20:!aNULL',
  GAAP_TLS_CIPHERS_GENERAL: 'ECDHE+AESGCM:ECDHE+CHACHA20:ECDHE+AES:DHE+AESGCM:!aNULL:!MD5:!SHA1@SECLEVEL=1',
  GAAP_TLS_CIPHERS_WIDE: 'DEFAULT@SECLEVEL=0',
};

type TlsVersion = 'TLSv1' | 'TLSv1.1' | 'TLSv1.2' | 'TLSv1.3';

/** The versions in order, each with the OpenSSL option that refuses it. */
const TLS_VERSIONS: ReadonlyArray<[TlsVersion, number]> = [
  ['TLSv1', cryptoConstants.SSL_OP_NO_TLSv1],
  ['TLSv1.1', cryptoConstants.SSL_OP_NO_TLSv1_1],
  ['TLSv1.2', cryptoConstants.SSL_OP_NO_TLSv1_2],
  ['TLSv1.3', cryptoConstants.SSL_OP_NO_TLSv1_3],
];

/** The allowed range, and the versions inside it that the list leaves out (TLSv1 and TLSv1.2 without TLSv1.1) refused. */
function versionOptions(listed: readonly string[]): { minVersion: TlsVersion; maxVersion: TlsVersion; secureOptions: number } {
  const at = TLS_VERSIONS.map(([v]) => listed.includes(v));
  const lo = at.indexOf(true);
  const hi = at.lastIndexOf(true);
  // The view always names one; Node's own defaults otherwise.
  if (lo < 0) return { minVersion: 'TLSv1.2', maxVersion: 'TLSv1.3', secureOptions: 0 };
  let secureOptions = 0;
  for (let i = lo; i <= hi; i++) if (!at[i]) secureOptions |= TLS_VERSIONS[i][1];
  return { minVersion: TLS_VERSIONS[lo][0], maxVersion: TLS_VERSIONS[hi][0], secureOptions };
}

/** What tells one TLS profile from another: the served certificate with its settings, and mutual authentication. */
const profileKey = (c: ServedCertificate, mutual: boolean): string => `${mutual ? 1 : 0}${JSON.stringify(c)}`;

/** Server TLS options of a certificate: the versions listed, the profile's ciphers. */
function tlsOptions(c: ServedCertificate) {
  return {
    cert: c.cert,
    key: c.key,
    ...(c.clientCas.length ? { ca: c.clientCas } : {}),
    ...versionOptions(c.versions),
    ciphers: CIPHER_PROFILES[c.cipherProfile] ?? CIPHER_PROFILES.GAAP_TLS_CIPHERS_WIDE,
  };
}

/** A rule's check: its method and path, with its Host; healthy when the status's class is listed. */
function httpProbe(r: HttpRule): Probe {
  const check: HttpCheck = r.check;
  const https = r.forwardProtocol === 'HTTPS';
  return (ip, port, timeoutMs, o) => new Promise((resolve) => {
    const started = performance.now();
    const req = (https ? httpsRequest : httpRequest)({
      host: ip, port, method: check.method, path: encodeURI(check.path), headers: { host: check.host }, agent: false, timeout: timeoutMs,
      ...(https ? originTlsOptions(r.originTls, r.serverName, check.host) : {}),
    }, (res) => {
      measureRtt(o, performance.now() - started);
      res.resume();
      resolve(check.statusClasses.includes(Math.floor((res.statusCode ?? 0) / 100) * 100));
      req.destroy();
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(false));
    req.end();
  });
}

/** ForcedRedirect: a value with a host (`https://example.com`) is the target's base; any other value keeps the client's host. */
function redirect(req: IncomingMessage, res: ServerResponse, value: string): void {
  const base = /^https?:\/\/[^/]+/i.exec(value.trim())?.[0] ?? `https://${req.headers.host ?? ''}`;
  res.writeHead(301, { location: `${base}${req.url ?? '/'}`, 'content-length': 0 });
  res.end();
}

/** A character beyond Latin-1. */
const WIDE = /[^\x00-\xff]/;

/** What a rule adds to the heads it forwards (ForwardHost, custom headers) is all Latin-1. */
const latin1Head = (r: HttpRule): boolean => !WIDE.test(r.forwardHost ?? '') && r.headers.every((h) => !WIDE.test(h.name + h.value));

const peerKey = (s: { remoteAddress?: string; remotePort?: number }): string => `${s.remoteAddress}|${s.remotePort}`;


/** The pool key of a rule's origin: its address and port, and for HTTPS the rule's TLS settings. */
const poolBase = (rr: RuleRuntime, s: OriginState): string => `${rr.tlsKey ?? 'http'}|${s.origin.address}|${s.origin.port}`;
