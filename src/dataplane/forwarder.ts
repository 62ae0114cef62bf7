/**
 * A forwarder process: listens and accepts on sockets its parent bound and
 * handed over, and forwards each connection as the main process does
 * (tcp.ts, origins.ts, security.ts), from a plain description of each
 * binding the parent sends and updates. It never opens the store: it
 * reports what it counted back to the parent, which owns every counter.
 * It exits when its parent goes away (the IPC channel closes).
 */
import { createServer, Server, type Socket } from 'node:net';
import type { ForwardingListener } from '../services/gaap/forwarding';
import { OriginSet } from './origins';
import { accessCheck, type AccessCheck } from './security';
import { forward, proxyHeader, unmapped, type TcpConnection } from './tcp';
import { keepFreedMemory } from '../core/freed-memory';

/** Health of one origin as the parent's checks see it. */
export interface OriginHealthSpec {
  key: string;
  healthy: boolean;
  downIps: string[];
  unresolved: boolean;
  blockedUntil: number;
}

/** Everything a forwarder needs to forward one listener's connections on one proxy. */
export interface BindingSpec {
  listener: ForwardingListener;
  /** The proxy's address, as the PROXY protocol header names it. */
  proxyAddress: string;
  health: OriginHealthSpec[];
  idleMs: number;
}

/** What one binding carried in one forwarder since its last report. */
export interface BindingDelta {
  id: number;
  accepted: number;
  opened: number;
  closed: number;
  bytesIn: number;
  bytesOut: number;
}

/** Parent to forwarder. `bind` comes with the bound socket's handle (or, where the parent could not bind without listening, its listening server) as the message's handle. */
export type ToForwarder =
  | { type: 'bind'; id: number; spec: BindingSpec }
  | { type: 'update'; id: number; spec: BindingSpec }
  | { type: 'unbind'; id: number }
  | { type: 'stop' };

/** Forwarder to parent: counters, and each binding's answer (listening, or the listen's error). */
export type FromForwarder =
  | { type: 'counters'; deltas: BindingDelta[] }
  | { type: 'listening'; id: number }
  | { type: 'refused'; id: number; code: string; message: string }
  | { type: 'stopped' };

/** How often a forwarder reports its counters at most (only when something changed). */
export const REPORT_MS = 200;

interface ChildBinding {
  server: Server;
  spec: BindingSpec;
  origins: OriginSet;
  access: AccessCheck | undefined;
  conns: Set<TcpConnection>;
  delta: BindingDelta;
}

const emptyDelta = (id: number): BindingDelta => ({ id, accepted: 0, opened: 0, closed: 0, bytesIn: 0, bytesOut: 0 });

export class Forwarder {
  private readonly bindings = new Map<number, ChildBinding>();
  /** Deltas of bindings already closed, still to report. */
  private readonly retired: BindingDelta[] = [];

  constructor(private readonly send: (msg: FromForwarder, then?: () => void) => void) {}

  handle(msg: ToForwarder, handle: unknown): void {
    switch (msg.type) {
      case 'bind':
        this.bind(msg.id, msg.spec, handle as Server | undefined);
        break;
      case 'update': {
        const b = this.bindings.get(msg.id);
        if (b) this.configure(b, msg.spec);
        break;
      }
      case 'unbind':
        this.unbind(msg.id);
        break;
      case 'stop':
        for (const id of [...this.bindings.keys()]) this.unbind(id);
        this.report();
        this.send({ type: 'stopped' }, () => process.exit(0));
        break;
    }
  }

  private bind(id: number, spec: BindingSpec, handle: unknown): void {
    if (!handle) return;
    const handed = handle instanceof Server;
    let server: Server;
    if (handed) {
      // Already listening in the parent; made without the parent's options: they are read at each accept.
      server = Object.assign(handle, { allowHalfOpen: true, noDelay: true });
    } else server = createServer({ allowHalfOpen: true, noDelay: true });
    const b: ChildBinding = { server, spec, origins: new OriginSet(spec.listener), access: undefined, conns: new Set(), delta: emptyDelta(id) };
    this.configure(b, spec);
    this.bindings.set(id, b);
    server.on('connection', (client: Socket) => this.accept(b, client));
    if (handed) {
      server.on('error', () => undefined);
      this.send({ type: 'listening', id });
      return;
    }
    const refused = (err: NodeJS.ErrnoException) => {
      // Not listening: this binding is the parent's to retry or report.
      this.bindings.delete(id);
      this.send({ type: 'refused', id, code: err.code ?? 'error', message: err.message });
    };
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
    const health = new Map(spec.health.map((h) => [h.key, h]));
    for (const s of b.origins.states) {
      const h = health.get(s.key);
      if (h) Object.assign(s, { healthy: h.healthy, downIps: h.downIps, unresolved: h.unresolved, blockedUntil: h.blockedUntil });
    }
    const l = spec.listener;
    b.access = accessCheck(l.security, l.protocol, l.port);
  }

  private unbind(id: number): void {
    const b = this.bindings.get(id);
    if (!b) return;
    this.bindings.delete(id);
    b.server.close();
    // As in the main process: the proxy or listener stopped serving, its traffic stops with it.
    for (const c of b.conns) {
      c.client.destroy();
      c.upstream?.destroy();
    }
    this.sample(b);
    this.retired.push(b.delta);
  }

  private accept(b: ChildBinding, client: Socket): void {
    client.on('error', () => client.destroy());
    b.delta.accepted++;
    const l = b.spec.listener;
    const ip = b.access || l.sessionPersist > 0 ? unmapped(client.remoteAddress ?? '') : '';
    const origin = !b.access || b.access(ip) ? b.origins.pick(ip, Date.now()) : undefined;
    if (!origin) {
      client.resetAndDestroy();
      return;
    }
    origin.active++;
    b.delta.opened++;
    const conn = forward(client, {
      origin,
      header: l.clientIpMethod === 1 ? proxyHeader(client, b.spec.proxyAddress, l.port) : undefined,
      connectTimeoutMs: l.health.connectTimeout * 1000,
      idleMs: b.spec.idleMs,
      limits: undefined,
      done: (c) => {
        origin.active--;
        b.conns.delete(c);
        b.delta.closed++;
        count(b.delta, c);
      },
    });
    b.conns.add(conn);
  }

  /** Adds what open connections carried since the last sample. */
  private sample(b: ChildBinding): void {
    for (const c of b.conns) count(b.delta, c);
  }

  /** Sends what changed since the last report. */
  report(): void {
    const deltas = this.retired.splice(0);
    for (const [id, b] of this.bindings) {
      this.sample(b);
      const d = b.delta;
      if (d.accepted || d.opened || d.closed || d.bytesIn || d.bytesOut) {
        deltas.push(d);
        b.delta = emptyDelta(id);
      }
    }
    const changed = deltas.filter((d) => d.accepted || d.opened || d.closed || d.bytesIn || d.bytesOut);
    if (changed.length > 0) this.send({ type: 'counters', deltas: changed });
  }
}

function count(d: BindingDelta, c: TcpConnection): void {
  const inBytes = c.client.bytesRead - c.countedIn;
  const outBytes = c.client.bytesWritten - c.countedOut;
  c.countedIn += inBytes;
  c.countedOut += outBytes;
  d.bytesIn += inBytes;
  d.bytesOut += outBytes;
}

/** The process's entry: wired to its parent's IPC channel. */
function main(): void {
  keepFreedMemory();
  const send = (msg: FromForwarder, then?: () => void) => {
    if (!process.connected) return then?.();
    process.send!(msg, undefined, {}, () => then?.());
  };
  const forwarder = new Forwarder(send);
  process.on('message', (msg: ToForwarder, handle: unknown) => forwarder.handle(msg, handle));
  // No orphans: the parent gone (killed, crashed, exited), this process goes too.
  process.on('disconnect', () => process.exit(0));
  setInterval(() => forwarder.report(), REPORT_MS);
}

if (require.main === module) main();
