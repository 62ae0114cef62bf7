/**
 * A forwarder process: listens and accepts on sockets its parent bound and
 * handed over, and forwards each connection as the main process does: TCP
 * with tcp.ts, origins.ts and security.ts, from a plain description of each
 * binding the parent sends and updates; HTTP and HTTPS with its own
 * HttpPlane (http.ts), fed each account's HTTP view and each rule's origin
 * health by the parent. It never opens the store and runs no health check:
 * it reports what it counted (and requests that failed at their origin)
 * back to the parent, which owns every counter and check. It exits when its
 * parent goes away (the IPC channel closes).
 */
import { createServer, Server, type Socket } from 'node:net';
import pino from 'pino';
import type { ForwardingListener } from '../services/gaap/forwarding';
import type { Entity } from './counters';
import { HttpPlane, type HttpPlaneSettings } from './http';
import type { Tally } from './http-forward';
import { changedIds, ReceivedHttpViews, type HttpViewsChange } from './http-views';
import type { ConnectionLedger } from './http-connections';
import type { BindingCounters } from './observe';
import { applyHealth, OriginSet, type OriginHealthSpec, type OriginState } from './origins';
import { accessCheck, type AccessCheck } from './security';
import { forward, proxyHeader, proxyHeaderLine, unmapped, type RelayEnd, type TcpConnection } from './tcp';
import { handleRelay, type HandleRelaying, type RawTcp } from './handle-relay';
import { keepFreedMemory } from '../core/freed-memory';

export type { OriginHealthSpec } from './origins';

/** Everything a forwarder needs to forward one listener's connections on one proxy. */
export interface BindingSpec {
  listener: ForwardingListener;
  /** The proxy's address, as the PROXY protocol header names it. */
  proxyAddress: string;
  health: OriginHealthSpec[];
  idleMs: number;
}

/** Which HTTP or HTTPS listener, on which proxy, a handed socket serves. */
export interface HttpBindingSpec {
  account: string;
  listenerId: string;
  proxyId: string;
}

/** What one binding carried in one forwarder since its last report. */
export interface BindingDelta {
  id: number;
  accepted: number;
  opened: number;
  closed: number;
  bytesIn: number;
  bytesOut: number;
  /** HTTP requests (HTTP and HTTPS listeners). */
  requests?: number;
  /** TCP bindings: the same, per real server the connections went to (by real server id). */
  origins?: Record<string, OriginDelta>;
}

export interface OriginDelta {
  opened: number;
  closed: number;
  bytesIn: number;
  bytesOut: number;
}

/**
 * Parent to forwarder. `bind` and `http-bind` come with the bound socket's
 * handle (or, where the parent could not bind without listening, its
 * listening server) as the message's handle; without one to a forwarder
 * that is not to accept on it yet (accept-turns.ts), and `listen` brings
 * the handle later.
 */
export type ToForwarder =
  | { type: 'bind'; id: number; spec: BindingSpec }
  /** Accept on the binding's socket (the message's handle) too. */
  | { type: 'listen'; id: number }
  /** Stop accepting on the binding's socket; its connections go on. */
  | { type: 'unlisten'; id: number }
  /** Close this many of an HTTP binding's client connections after their next answer (they are beyond this process's share). */
  | { type: 'shed'; id: number; count: number }
  | { type: 'update'; id: number; spec: BindingSpec }
  | ({ type: 'http-bind'; id: number } & HttpBindingSpec)
  /** What changed in an account's HTTP listeners (sent before any socket of theirs; the whole set to a forwarder started again). */
  | ({ type: 'http-apply'; account: string } & HttpViewsChange)
  /** A rule's origin health as the parent's checks see it; null: the rule is gone. */
  | { type: 'http-health'; ruleId: string; health: OriginHealthSpec[] | null }
  /** The TLS session ticket keys (base64), sent first. */
  | { type: 'tls-ticket-keys'; keys: string }
  | { type: 'unbind'; id: number }
  | { type: 'stop' };

/** Forwarder to parent: counters, and each binding's answer (listening, or the listen's error). */
export type FromForwarder =
  /** `busy`: the share of the interval since the last report the event loop spent working (0–1). */
  | { type: 'counters'; deltas: BindingDelta[]; requests?: Tally[]; busy: number }
  /** A request forwarded to one of a rule's origins failed there (the parent's passive checks count it). */
  | { type: 'http-failed'; ruleId: string; key: string }
  | { type: 'listening'; id: number }
  | { type: 'refused'; id: number; code: string; message: string }
  | { type: 'stopped' };

/** How often a forwarder reports its counters at most (only when something changed). */
export const REPORT_MS = 200;

interface ChildBinding {
  /** Closes this process's listening on the binding's socket; undefined while it does not accept on it. */
  listening: { close(): void } | undefined;
  spec: BindingSpec;
  origins: OriginSet;
  access: AccessCheck | undefined;
  /** Open connections, each with the real server it went to. */
  conns: Map<TcpConnection<RelayEnd>, string>;
  delta: BindingDelta;
}

/** A handed HTTP/HTTPS socket: the plane's counters as last reported, and what its connections carried since. */
interface HttpChildBinding {
  spec: HttpBindingSpec;
  /** Until the plane listens. */
  counters: BindingCounters | undefined;
  reported: { accepted: number; requests: number };
  delta: BindingDelta;
  /** Unbound: reported once more (connections ending meanwhile), then dropped. */
  gone: boolean;
}

const closeHandle = (handle: unknown): void => (handle as { close?: () => void } | undefined)?.close?.();

const emptyDelta = (id: number): BindingDelta => ({ id, accepted: 0, opened: 0, closed: 0, bytesIn: 0, bytesOut: 0, requests: 0 });

/** The part of `d` that counts for one real server. */
function originDelta(d: BindingDelta, realServerId: string): OriginDelta {
  const all = (d.origins ??= {});
  return (all[realServerId] ??= { opened: 0, closed: 0, bytesIn: 0, bytesOut: 0 });
}
const changed = (d: BindingDelta): boolean => !!(d.accepted || d.opened || d.closed || d.bytesIn || d.bytesOut || d.requests);

export class Forwarder {
  private readonly bindings = new Map<number, ChildBinding>();
  private readonly httpBindings = new Map<number, HttpChildBinding>();
  /** Deltas of bindings already closed, still to report. */
  private readonly retired: BindingDelta[] = [];
  /** HTTP and HTTPS listeners, made with the first HTTP view. */
  private http: HttpPlane | undefined;
  /** Each account's HTTP views, added up from the parent's changes. */
  private readonly httpViews = new ReceivedHttpViews();
  private ticketKeys: Buffer | undefined;
  /** The event loop's use at the last report. */
  private loop = performance.eventLoopUtilization();

  constructor(private readonly send: (msg: FromForwarder, then?: () => void) => void, private readonly httpSettings?: HttpPlaneSettings) {}

  private httpPlane(): HttpPlane {
    if (this.http) return this.http;
    if (!this.httpSettings) throw new Error('no HTTP settings were given to this forwarder');
    const none: ConnectionLedger = { open: () => true, close: () => undefined, bytes: () => undefined, limits: () => undefined };
    this.http = new HttpPlane(this.httpSettings, {
      ruleHealth: async () => undefined,
      connections: none,
      remote: { failed: (ruleId, key) => this.send({ type: 'http-failed', ruleId, key }) },
    }, pino({ level: 'warn', base: { forwarder: process.pid } }, pino.destination(2)), this.ticketKeys);
    return this.http;
  }

  /** An HTTP/HTTPS binding in the forwarder's plane, listening on the handed socket if it came; its connections count into the binding's delta. */
  private httpBind(id: number, spec: HttpBindingSpec, handle: unknown): void {
    const hb: HttpChildBinding = { spec, counters: undefined, reported: { accepted: 0, requests: 0 }, delta: emptyDelta(id), gone: false };
    this.httpBindings.set(id, hb);
    const ledger: ConnectionLedger = {
      open: () => {
        hb.delta.opened++;
        return true;
      },
      close: () => void hb.delta.closed++,
      bytes: (_account: string, _entities: readonly Entity[], inBytes: number, outBytes: number) => {
        hb.delta.bytesIn += inBytes;
        hb.delta.bytesOut += outBytes;
      },
      limits: () => undefined,
    };
    this.httpPlane().attach(spec.account, spec.listenerId, spec.proxyId, handle as object | undefined, ledger).then((counters) => {
      hb.counters = counters;
      if (handle) this.send({ type: 'listening', id });
    }, (err: NodeJS.ErrnoException) => {
      this.httpBindings.delete(id);
      this.send({ type: 'refused', id, code: err.code ?? 'error', message: err.message });
    });
  }

  private httpUnbind(id: number): void {
    const hb = this.httpBindings.get(id);
    if (!hb || hb.gone) return;
    hb.gone = true;
    this.http?.detach(hb.spec.account, hb.spec.listenerId, hb.spec.proxyId);
  }

  handle(msg: ToForwarder, handle: unknown): void {
    switch (msg.type) {
      case 'bind':
        this.bind(msg.id, msg.spec, handle);
        break;
      case 'listen': {
        const b = this.bindings.get(msg.id);
        const hb = this.httpBindings.get(msg.id);
        if (b && !b.listening) this.listen(msg.id, b, handle, false);
        else if (hb && !hb.gone && this.http) {
          this.http.acceptOn(hb.spec.account, hb.spec.listenerId, hb.spec.proxyId, handle as object).catch((err: NodeJS.ErrnoException) => {
            closeHandle(handle);
            this.send({ type: 'refused', id: msg.id, code: err.code ?? 'error', message: err.message });
          });
        }
        // A socket this process will not accept on is let go at once: kept, it would hold the port.
        else closeHandle(handle);
        break;
      }
      case 'unlisten': {
        const b = this.bindings.get(msg.id);
        b?.listening?.close();
        if (b) b.listening = undefined;
        const hb = this.httpBindings.get(msg.id);
        if (hb) this.http?.stopAccepting(hb.spec.account, hb.spec.listenerId, hb.spec.proxyId);
        break;
      }
      case 'shed': {
        const hb = this.httpBindings.get(msg.id);
        if (hb && !hb.gone) this.http?.shed(hb.spec.account, hb.spec.listenerId, hb.spec.proxyId, msg.count);
        break;
      }
      case 'update': {
        const b = this.bindings.get(msg.id);
        if (b) this.configure(b, msg.spec);
        break;
      }
      case 'http-bind':
        this.httpBind(msg.id, { account: msg.account, listenerId: msg.listenerId, proxyId: msg.proxyId }, handle);
        break;
      case 'tls-ticket-keys':
        this.ticketKeys = Buffer.from(msg.keys, 'base64');
        break;
      case 'http-apply':
        void this.httpPlane().apply(msg.account, msg.proxies, this.httpViews.apply(msg.account, msg), changedIds(msg));
        break;
      case 'http-health':
        this.httpPlane().setRuleHealth(msg.ruleId, msg.health ?? undefined);
        break;
      case 'unbind':
        this.unbind(msg.id);
        this.httpUnbind(msg.id);
        break;
      case 'stop':
        for (const id of [...this.bindings.keys()]) this.unbind(id);
        for (const id of [...this.httpBindings.keys()]) this.httpUnbind(id);
        this.report();
        this.send({ type: 'stopped' }, () => process.exit(0));
        break;
    }
  }

  /** A TCP binding: accepted on at once with a handle; without one, held until the parent says `listen`. */
  private bind(id: number, spec: BindingSpec, handle: unknown): void {
    const b: ChildBinding = { listening: undefined, spec, origins: new OriginSet(spec.listener), access: undefined, conns: new Map(), delta: emptyDelta(id) };
    this.configure(b, spec);
    this.bindings.set(id, b);
    if (handle) this.listen(id, b, handle, true);
  }

  /** Accepts on the binding's socket. A listen refused on the first `bind` leaves the binding to the parent to retry or report. */
  private listen(id: number, b: ChildBinding, handle: unknown, first: boolean): void {
    const refused = (err: NodeJS.ErrnoException) => {
      b.listening = undefined;
      if (first) this.bindings.delete(id);
      this.send({ type: 'refused', id, code: err.code ?? 'error', message: err.message });
    };
    const handed = handle instanceof Server;
    // A bound socket's raw handle: listened on and relayed without net.Socket (handle-relay.ts), where the runtime allows.
    if (!handed && handleRelay) {
      const raw = handle as RawTcp;
      const relay: HandleRelaying = handleRelay;
      const err = relay.listen(raw, (client) => this.acceptHandle(b, client, relay)) as NodeJS.ErrnoException | undefined;
      if (err) {
        raw.close();
        return refused(err);
      }
      b.listening = { close: () => raw.close() };
      return this.send({ type: 'listening', id });
    }
    let server: Server;
    if (handed) {
      // Already listening in the parent; made without the parent's options: they are read at each accept.
      server = Object.assign(handle, { allowHalfOpen: true, noDelay: true });
    } else server = createServer({ allowHalfOpen: true, noDelay: true });
    b.listening = server;
    server.on('connection', (client: Socket) => this.accept(b, client));
    if (handed) {
      server.on('error', () => undefined);
      this.send({ type: 'listening', id });
      return;
    }
    server.once('error', refused);
    server.listen({ handle }, () => {
      server.off('error', refused);
      server.on('error', () => undefined);
      this.send({ type: 'listening', id });
    });
  }

  private configure(b: ChildBinding, spec: BindingSpec): void {
    b.spec = spec;
    b.origins.update(spec.listener);
    applyHealth(b.origins.states, spec.health);
    const l = spec.listener;
    b.access = accessCheck(l.security, l.protocol, l.port);
  }

  private unbind(id: number): void {
    const b = this.bindings.get(id);
    if (!b) return;
    this.bindings.delete(id);
    b.listening?.close();
    // As in the main process: the proxy or listener stopped serving, its traffic stops with it.
    for (const c of b.conns.keys()) {
      c.client.destroy();
      c.upstream?.destroy();
    }
    this.sample(b);
    this.retired.push(b.delta);
  }

  /** The origin for a new connection from `ip` ('' when neither a policy nor persistence needs it), counted as opened; undefined: refused. */
  private choose(b: ChildBinding, ip: string): OriginState | undefined {
    b.delta.accepted++;
    const origin = !b.access || b.access(ip) ? b.origins.pick(ip, Date.now()) : undefined;
    if (!origin) return undefined;
    origin.active++;
    b.delta.opened++;
    originDelta(b.delta, origin.origin.realServerId).opened++;
    return origin;
  }

  private finished(b: ChildBinding, origin: OriginState, c: TcpConnection<RelayEnd>): void {
    origin.active--;
    b.conns.delete(c);
    b.delta.closed++;
    originDelta(b.delta, origin.origin.realServerId).closed++;
    count(b.delta, c, origin.origin.realServerId);
  }

  private accept(b: ChildBinding, client: Socket): void {
    client.on('error', () => client.destroy());
    const l = b.spec.listener;
    const origin = this.choose(b, b.access || l.sessionPersist > 0 ? unmapped(client.remoteAddress ?? '') : '');
    if (!origin) return void client.resetAndDestroy();
    const conn = forward(client, {
      origin,
      header: l.clientIpMethod === 1 ? proxyHeader(client, b.spec.proxyAddress, l.port) : undefined,
      connectTimeoutMs: l.health.connectTimeout * 1000,
      idleMs: b.spec.idleMs,
      limits: undefined,
      done: (c) => this.finished(b, origin, c),
    });
    b.conns.set(conn, origin.origin.realServerId);
  }

  private acceptHandle(b: ChildBinding, client: RawTcp, relay: HandleRelaying): void {
    const l = b.spec.listener;
    // The addresses cost two system calls: read only when a policy, persistence or the PROXY header needs them.
    const peer = b.access || l.sessionPersist > 0 || l.clientIpMethod === 1 ? relay.addresses(client) : undefined;
    const origin = this.choose(b, peer ? unmapped(peer.ip) : '');
    if (!origin) return relay.refuse(client);
    const conn = relay.forward(client, {
      origin,
      header: peer && l.clientIpMethod === 1 ? proxyHeaderLine(peer.ip, peer.port, peer.localIp, b.spec.proxyAddress, l.port) : undefined,
      connectTimeoutMs: l.health.connectTimeout * 1000,
      idleMs: b.spec.idleMs,
      done: (c) => this.finished(b, origin, c),
    });
    // Finished already when the system refused the origin's address at once.
    if (!conn.closed) b.conns.set(conn, origin.origin.realServerId);
  }

  /** Adds what open connections carried since the last sample. */
  private sample(b: ChildBinding): void {
    for (const [c, realServerId] of b.conns) count(b.delta, c, realServerId);
  }

  /** Sends what changed since the last report. */
  report(): void {
    const deltas = this.retired.splice(0);
    for (const [id, b] of this.bindings) {
      this.sample(b);
      const d = b.delta;
      if (changed(d)) {
        deltas.push(d);
        b.delta = emptyDelta(id);
      }
    }
    // Open HTTP connections' bytes since the last count reach the ledgers now.
    this.http?.sampleConnections();
    for (const [id, hb] of this.httpBindings) {
      const d = hb.delta;
      if (hb.counters) {
        d.accepted += hb.counters.accepted - hb.reported.accepted;
        d.requests = (d.requests ?? 0) + hb.counters.requests - hb.reported.requests;
        hb.reported = { accepted: hb.counters.accepted, requests: hb.counters.requests };
      }
      if (changed(d)) {
        deltas.push(d);
        hb.delta = emptyDelta(id);
      }
      if (hb.gone) this.httpBindings.delete(id);
    }
    const requests = this.http?.takeRequests() ?? [];
    const list = deltas.filter(changed);
    const loop = performance.eventLoopUtilization();
    const busy = performance.eventLoopUtilization(loop, this.loop).utilization;
    this.loop = loop;
    if (list.length > 0 || requests.length > 0) this.send({ type: 'counters', deltas: list, ...(requests.length > 0 ? { requests } : {}), busy: Math.round(busy * 1000) / 1000 });
  }
}

function count(d: BindingDelta, c: TcpConnection<RelayEnd>, realServerId: string): void {
  const inBytes = c.client.bytesRead - c.countedIn;
  const outBytes = c.client.bytesWritten - c.countedOut;
  if (inBytes === 0 && outBytes === 0) return;
  c.countedIn += inBytes;
  c.countedOut += outBytes;
  d.bytesIn += inBytes;
  d.bytesOut += outBytes;
  const o = originDelta(d, realServerId);
  o.bytesIn += inBytes;
  o.bytesOut += outBytes;
}

/** The process's entry: wired to its parent's IPC channel. */
function main(): void {
  keepFreedMemory();
  const send = (msg: FromForwarder, then?: () => void) => {
    if (!process.connected) return then?.();
    process.send!(msg, undefined, {}, () => then?.());
  };
  // The parent passes its HTTP plane's settings as the one argument.
  const forwarder = new Forwarder(send, process.argv[2] ? (JSON.parse(process.argv[2]) as HttpPlaneSettings) : undefined);
  process.on('message', (msg: ToForwarder, handle: unknown) => forwarder.handle(msg, handle));
  // No orphans: the parent gone (killed, crashed, exited), this process goes too.
  process.on('disconnect', () => process.exit(0));
  setInterval(() => forwarder.report(), REPORT_MS);
}

if (require.main === module) main();
