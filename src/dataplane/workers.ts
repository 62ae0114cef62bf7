/**
 * Forwarder processes beside the main one (--dataplane-workers N): the main
 * process binds every TCP, HTTP and HTTPS listener's socket, as without
 * workers, but does not listen on it: it hands the bound socket to the
 * forwarders, and they listen and accept (the first always, the others
 * under load: accept-turns.ts; the main process holds the socket
 * to keep the port and to hand it to a forwarder started again). Each TCP
 * binding's description (origins with their live health, scheduler, policy)
 * goes to the forwarders when it is bound and again whenever it changes; the
 * HTTP listeners' view of each account goes whole, and each rule's origin
 * health when it changes. Their counters (and failed requests, for the rules'
 * passive checks) come back and add into the main process's own. A forwarder
 * that dies is started again and given every binding; forwarders exit with
 * the main process. See docs/dataplane.md, "Forwarder processes".
 */
import { fork, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import type { Server } from 'node:net';
import type { Logger } from 'pino';
import { NODE_FLAGS } from '../core/node-flags';
import { type Counters, type Entity, originEntity, SEGMENT_BYTES } from './counters';
import { bindTcp, type BoundTcp } from './bound-socket';
import type { BindingDelta, BindingSpec, FromForwarder, HttpBindingSpec, OriginDelta, ToForwarder } from './forwarder';
import type { HttpPlaneSettings } from './http';
import { SentHttpViews } from './http-views';
import type { Tally } from './http-forward';
import type { BindingCounters } from './observe';
import { healthSpecs, type OriginSet, type OriginState } from './origins';
import { AcceptTurns, LEAD, QUIET_MS } from './accept-turns';
import type { ForwardingProxy } from '../services/gaap/forwarding';
import type { HttpListener } from '../services/gaap/forwarding-http';

/** Connections the forwarders report for one binding, or for one real server of it, and what they count for. */
interface Counted {
  entities: Entity[];
  /** Connections open in each forwarder (by slot). */
  open: number[];
}

/** What the main process knows of one binding handed to the forwarders. */
interface Shared extends Counted {
  account: string;
  /** What goes to each forwarder: a bound socket's handle, or (where the runtime cannot bind without listening) the main process's listening server. */
  handle: object;
  /** What the forwarders are told with the socket: a TCP binding's spec, or which HTTP listener on which proxy. */
  what: SharedWhat;
  /** A TCP spec as last sent, to send changes only. */
  sent: string;
  counters: BindingCounters;
  /** TCP bindings: each real server's own share (its traffic series), by real server id. */
  origins: Map<string, Counted>;
  /** Unbound: late reports still add bytes, connections are already closed. */
  gone: boolean;
  /** A binding on a bound socket's handle: the lead forwarder accepts on it, the others only while it is open to all (accept-turns.ts). */
  turns: boolean;
  /** Every forwarder accepts on it. */
  wide: boolean;
  /** When forwarders were last asked to close connections of this HTTP binding beyond their share. */
  shedAt: number;
}

interface Slot {
  child: ChildProcess | undefined;
  pid: number | undefined;
  accepted: number;
  restarts: number;
  /** Recent crash times, to slow down a process that keeps dying. */
  crashes: number[];
}

/** A TCP binding's description, or the HTTP listener and proxy a socket is for. */
export type SharedWhat = { spec: BindingSpec } | { http: HttpBindingSpec };

/** What the main process's HTTP plane learns from the forwarders. */
export interface ForwarderHttp {
  /** The forwarders' HTTP planes are built with these. */
  settings: HttpPlaneSettings;
  /** TLS session ticket keys, shared with the main process's plane (sent over the IPC channel, never on a command line). */
  ticketKeys: Buffer;
  /** A forwarded request failed at its origin (for the rule's passive checks). */
  failed(ruleId: string, originKey: string): void;
  /** Requests served, per proxy, since a forwarder's last report. */
  requests(list: Tally[]): void;
}

/** Waiting for the first forwarder to listen on a binding's socket. */
interface Pending {
  resolve(answer: 'listening' | 'unanswered'): void;
  reject(err: Error): void;
  timer: NodeJS.Timeout;
}

/** How long bind() waits for a forwarder to listen before the caller accepts in the main process instead. */
const LISTEN_WAIT_MS = 5000;
/** How long an unbound binding's late reports are still taken. */
const RETIRE_MS = 10_000;
/** How long stop() waits for a forwarder's last counters before killing it. */
const STOP_WAIT_MS = 3000;
/** How often listeners opened to every forwarder are checked for going back to the lead alone. */
const TURN_CHECK_MS = 500;
/** How often at most an HTTP binding's connections are spread again over the forwarders. */
const SPREAD_EVERY_MS = 1000;
/** Connections a forwarder may hold beyond its share of a binding's before some are asked to close (or a quarter of the share, if more). */
const SPREAD_SLACK = 2;

export class ForwarderPool {
  private readonly slots: Slot[];
  private readonly shared = new Map<number, Shared>();
  private readonly pending = new Map<number, Pending>();
  private nextId = 0;
  private stopping = false;
  /** The HTTP views last sent per account: changes go out as they come, the whole set to a forwarder started again. */
  private readonly httpViews = new SentHttpViews();
  /** Each rule's origin health as last sent (with its text, to send changes only). */
  private readonly ruleHealth = new Map<string, { text: string; msg: ToForwarder }>();
  private readonly turns: AcceptTurns;
  /** Checks, while some listener is open to every forwarder, whether it can go back to the lead. */
  private turnCheck: NodeJS.Timeout | undefined;

  constructor(size: number, private readonly counters: Counters, private readonly log: Logger, private readonly http: ForwarderHttp, joinAt: number) {
    this.slots = Array.from({ length: size }, () => ({ child: undefined, pid: undefined, accepted: 0, restarts: 0, crashes: [] }));
    this.turns = new AcceptTurns(size, { joinAt, quietMs: QUIET_MS });
  }

  start(): void {
    for (let i = 0; i < this.slots.length; i++) this.spawn(i);
  }

  private spawn(i: number): void {
    const slot = this.slots[i];
    // Not the parent's flags (a debugger's or a test runner's would apply to every forwarder): tclocal's own.
    const child = fork(join(__dirname, 'forwarder.js'), [JSON.stringify(this.http.settings)], { execArgv: [...NODE_FLAGS], serialization: 'json' });
    slot.child = child;
    slot.pid = child.pid;
    child.on('message', (msg: FromForwarder) => {
      if (msg.type === 'counters') {
        this.counted(i, msg.deltas);
        this.widen(this.turns.reported(i, msg.busy, msg.deltas));
        if (i === LEAD) {
          this.narrowTo(this.turns.lapsed(msg.deltas));
          // The lead's bindings with traffic: those open to every forwarder are spread again if it holds too many.
          for (const d of msg.deltas) this.spread(d.id);
        }
        if (msg.requests?.length) this.http.requests(msg.requests);
      } else if (msg.type === 'listening' || msg.type === 'refused') this.answered(msg);
      else if (msg.type === 'http-failed') this.http.failed(msg.ruleId, msg.key);
    });
    child.on('error', (err) => this.log.warn({ err, pid: child.pid }, 'data plane: forwarder process error'));
    child.on('exit', (code, signal) => this.exited(i, child, code, signal));
    this.send(child, { type: 'tls-ticket-keys', keys: this.http.ticketKeys.toString('base64') });
    // The HTTP views and rule health first: a handed HTTP socket is for a listener the forwarder knows.
    for (const [account, change] of this.httpViews.whole()) this.send(child, { type: 'http-apply', account, ...change });
    for (const { msg } of this.ruleHealth.values()) this.send(child, msg);
    for (const [id, s] of this.shared) if (!s.gone) this.send(child, bindMessage(id, s.what), this.accepts(s, i) ? s.handle : undefined);
  }

  /** Whether forwarder `slot` accepts on a binding. */
  private accepts(s: Shared, slot: number): boolean {
    return !s.turns || s.wide || slot === LEAD;
  }

  /** Opens bindings to every forwarder; an HTTP binding's keep-alive clients are then spread over them. */
  private widen(ids: readonly number[]): void {
    for (const id of ids) {
      const s = this.shared.get(id);
      if (!s || s.gone || !s.turns || s.wide) continue;
      s.wide = true;
      this.slots.forEach((slot, i) => i !== LEAD && this.send(slot.child, { type: 'listen', id }, s.handle));
      this.spread(id);
    }
    if (ids.length > 0 && !this.turnCheck) {
      this.turnCheck = setInterval(() => this.narrow(), TURN_CHECK_MS);
      this.turnCheck.unref();
    }
  }

  /**
   * An HTTP binding open to every forwarder: asks each forwarder holding
   * more than its share of its connections to close that many after their
   * next answer; a client told `Connection: close` connects again, to
   * whichever forwarder accepts. At most once a second, as the open counts
   * come with the reports.
   */
  private spread(id: number): void {
    const s = this.shared.get(id);
    if (!s || !s.wide || s.gone || !('http' in s.what) || Date.now() - s.shedAt < SPREAD_EVERY_MS) return;
    const running = this.slots.flatMap((slot, i) => (slot.child?.connected ? [i] : []));
    if (running.length < 2) return;
    const share = Math.ceil(running.reduce((sum, i) => sum + s.open[i], 0) / running.length);
    const over = running.filter((i) => s.open[i] > share + Math.max(SPREAD_SLACK, share / 4));
    if (over.length === 0) return;
    s.shedAt = Date.now();
    for (const i of over) this.send(this.slots[i].child, { type: 'shed', id, count: s.open[i] - share });
  }

  /** Once the load has passed, and while the lead runs, bindings go back to it alone. */
  private narrow(): void {
    if (!this.slots[LEAD].child?.connected || !this.turns.quiet()) return;
    this.narrowTo([...this.shared.keys()]);
    this.turns.narrowed();
    clearInterval(this.turnCheck);
    this.turnCheck = undefined;
  }

  /** These bindings go back to the lead alone (while it runs); the connections the others hold go on. */
  private narrowTo(ids: readonly number[]): void {
    if (!this.slots[LEAD].child?.connected) return;
    for (const id of ids) {
      const s = this.shared.get(id);
      if (!s || !s.turns || !s.wide || s.gone) continue;
      s.wide = false;
      this.slots.forEach((slot, i) => i !== LEAD && this.send(slot.child, { type: 'unlisten', id }));
    }
  }

  private exited(i: number, child: ChildProcess, code: number | null, signal: NodeJS.Signals | null): void {
    const slot = this.slots[i];
    if (slot.child !== child) return;
    slot.child = undefined;
    if (i === LEAD && !this.stopping) {
      // Nobody would accept on the listeners until it is back: the others take them now.
      this.turns.leadGone();
      this.widen([...this.shared.keys()]);
    }
    // Its connections died with it.
    for (const s of this.shared.values()) {
      for (const c of [s, ...s.origins.values()]) this.closeOpen(s, c, i);
    }
    if (this.stopping) return;
    const now = Date.now();
    slot.crashes = [...slot.crashes.filter((t) => now - t < 60_000), now];
    slot.restarts++;
    const delay = slot.crashes.length > 5 ? 5000 : 100;
    this.log.error({ pid: child.pid, code, signal, restartInMs: delay }, 'data plane: a forwarder process exited; starting another');
    setTimeout(() => this.stopping || this.spawn(i), delay).unref();
  }

  private send(child: ChildProcess | undefined, msg: ToForwarder, handle?: object): void {
    if (!child?.connected) return;
    // With a callback, a channel closing under the message is not an 'error' event.
    // A raw TCP handle is sent as such (child_process's 'net.Native'), though the typings name only sockets and servers.
    if (handle) child.send(msg, handle as Server, {}, () => undefined);
    else child.send(msg, undefined, {}, () => undefined);
  }

  private broadcast(msg: ToForwarder): void {
    for (const slot of this.slots) this.send(slot.child, msg);
  }

  /**
   * Hands a bound socket (or a listening server) to every forwarder. `listening`
   * settles with the first forwarder's answer: listening, refused (the
   * listen's error, e.g. EADDRINUSE: the caller unbinds), or unanswered
   * within a few seconds (no forwarder alive: the caller accepts itself).
   */
  bind(socket: BoundTcp | Server, account: string, entities: Entity[], counters: BindingCounters, what: SharedWhat): { id: number; listening: Promise<'listening' | 'unanswered'> } {
    const id = ++this.nextId;
    const handle = 'handle' in socket ? socket.handle : socket;
    // A listening server (the runtime could not bind without listening) is polled by the main process anyway: every forwarder accepts on it.
    const turns = 'handle' in socket && !this.turns.everyone;
    const s: Shared = { account, entities, handle, what, sent: 'spec' in what ? JSON.stringify(what.spec) : '', counters, open: this.slots.map(() => 0), origins: new Map(), gone: false, turns, wide: false, shedAt: 0 };
    const listening = new Promise<'listening' | 'unanswered'>((resolve, reject) => {
      const timer = setTimeout(() => this.settle(id)?.resolve('unanswered'), LISTEN_WAIT_MS);
      timer.unref();
      this.pending.set(id, { resolve, reject, timer });
    });
    this.shared.set(id, s);
    this.slots.forEach((slot, i) => this.send(slot.child, bindMessage(id, what), this.accepts(s, i) ? handle : undefined));
    // The lead is being started again: the others accept meanwhile.
    if (turns && !this.slots[LEAD].child?.connected) this.widen([id]);
    return { id, listening };
  }

  /**
   * Binds `address:port` without listening and hands the socket to the
   * forwarders (`onShared` learns its id at once); settles as `bind`'s
   * `listening` does. Throws the bind's error, or the forwarders' listen's
   * (nothing is left open then). Undefined where the runtime cannot bind
   * without listening.
   */
  async bindShared(address: string, port: number, account: string, entities: Entity[], counters: BindingCounters, what: SharedWhat, onShared: (id: number) => void): Promise<{ id: number; bound: BoundTcp; answer: 'listening' | 'unanswered' } | undefined> {
    const bound = bindTcp(address, port);
    if (!bound) return undefined;
    const { id, listening } = this.bind(bound, account, entities, counters, what);
    onShared(id);
    try {
      return { id, bound, answer: await listening };
    } catch (err) {
      this.unbind(id);
      bound.close();
      throw err;
    }
  }

  /** An account's HTTP listeners as the main process's plane is about to apply them: sent before any socket of theirs. */
  httpApply(account: string, proxies: ForwardingProxy[], views: ReadonlyMap<string, HttpListener>, changed: ReadonlySet<string> | 'all'): void {
    const change = this.httpViews.change(account, proxies, views, changed);
    if (change) this.broadcast({ type: 'http-apply', account, ...change });
  }

  /** A rule's origin health (undefined: the rule is gone): sent only if it changed. */
  shareRuleHealth(ruleId: string, origins: readonly OriginState[] | undefined): void {
    if (!origins) {
      if (this.ruleHealth.delete(ruleId)) this.broadcast({ type: 'http-health', ruleId, health: null });
      return;
    }
    const health = healthSpecs(origins);
    const text = JSON.stringify(health);
    if (this.ruleHealth.get(ruleId)?.text === text) return;
    const msg: ToForwarder = { type: 'http-health', ruleId, health };
    this.ruleHealth.set(ruleId, { text, msg });
    this.broadcast(msg);
  }

  private settle(id: number): Pending | undefined {
    const p = this.pending.get(id);
    if (!p) return undefined;
    this.pending.delete(id);
    clearTimeout(p.timer);
    return p;
  }

  /** A forwarder's answer to a binding: the first one settles it; later ones agree (it is one socket) or are logged. */
  private answered(msg: Extract<FromForwarder, { type: 'listening' | 'refused' }>): void {
    const p = this.settle(msg.id);
    if (msg.type === 'listening') p?.resolve('listening');
    else if (p) p.reject(Object.assign(new Error(msg.message), { code: msg.code }));
    else if (!this.shared.get(msg.id)?.gone) this.log.warn({ code: msg.code, error: msg.message }, 'data plane: a forwarder could not listen on a shared socket');
  }

  /** A binding's description changed (settings, origins, health): sent only if it differs from the last one sent. */
  update(id: number, spec: BindingSpec): void {
    const s = this.shared.get(id);
    if (!s || s.gone || !('spec' in s.what)) return;
    const text = JSON.stringify(spec);
    if (text === s.sent) return;
    s.what = { spec };
    s.sent = text;
    this.broadcast({ type: 'update', id, spec });
  }

  /** The forwarders stop accepting on the binding and end its connections. */
  unbind(id: number): void {
    const s = this.shared.get(id);
    if (!s || s.gone) return;
    this.settle(id)?.resolve('unanswered');
    for (let i = 0; i < s.open.length; i++) for (const c of [s, ...s.origins.values()]) this.closeOpen(s, c, i);
    s.gone = true;
    this.broadcast({ type: 'unbind', id });
    setTimeout(() => this.shared.delete(id), RETIRE_MS).unref();
  }

  private counted(slot: number, deltas: BindingDelta[]): void {
    for (const d of deltas) {
      this.slots[slot].accepted += d.accepted;
      const s = this.shared.get(d.id);
      if (!s) continue;
      this.countInto(s, s, slot, d);
      for (const [realServerId, od] of Object.entries(d.origins ?? {})) this.countInto(s, this.originOf(s, realServerId), slot, od);
      s.counters.accepted += d.accepted;
      s.counters.requests += d.requests ?? 0;
      s.counters.bytesIn += d.bytesIn;
      s.counters.bytesOut += d.bytesOut;
    }
  }

  /** A forwarder's report for a binding or one of its real servers: connections opened and closed, bytes. */
  private countInto(s: Shared, c: Counted, slot: number, d: OriginDelta): void {
    if (!s.gone) {
      // Opens before closes: the interval's peak is counted at most this high.
      for (let n = d.opened; n > 0; n--) this.counters.open(s.account, c.entities);
      for (let n = Math.min(d.closed, c.open[slot] + d.opened); n > 0; n--) this.counters.close(s.account, c.entities);
      c.open[slot] = Math.max(0, c.open[slot] + d.opened - d.closed);
    }
    if (d.bytesIn || d.bytesOut) {
      this.counters.add(s.account, c.entities, d.bytesIn, d.bytesOut, Math.ceil(d.bytesIn / SEGMENT_BYTES), Math.ceil(d.bytesOut / SEGMENT_BYTES));
    }
  }

  /** The share of one real server of a TCP binding, made at its first report. */
  private originOf(s: Shared, realServerId: string): Counted {
    let c = s.origins.get(realServerId);
    if (!c) {
      const listenerId = s.entities.find((e) => e.scope === 'listener')?.id ?? '';
      s.origins.set(realServerId, (c = { entities: [originEntity(realServerId, listenerId)], open: this.slots.map(() => 0) }));
    }
    return c;
  }

  /** The connections a forwarder held on a binding or real server are gone (it stopped, or the binding did). */
  private closeOpen(s: Shared, c: Counted, slot: number): void {
    if (!s.gone) for (let n = c.open[slot]; n > 0; n--) this.counters.close(s.account, c.entities);
    c.open[slot] = 0;
  }

  /** Connections open in the forwarders on one binding. */
  open(id: number): number {
    const s = this.shared.get(id);
    return s && !s.gone ? s.open.reduce((a, b) => a + b, 0) : 0;
  }

  /** For GET /_tclocal/dataplane: each forwarder and the connections it accepted. */
  status(): Array<{ pid: number | null; running: boolean; accepted: number; restarts: number; tcpListening: number; httpListening: number }> {
    const live = [...this.shared.values()].filter((s) => !s.gone);
    return this.slots.map((s, i) => ({
      pid: s.pid ?? null, running: !!s.child?.connected, accepted: s.accepted, restarts: s.restarts,
      tcpListening: live.filter((b) => 'spec' in b.what && this.accepts(b, i)).length,
      httpListening: live.filter((b) => 'http' in b.what && this.accepts(b, i)).length,
    }));
  }

  /** Asks every forwarder for its last counters and to exit; kills those that do not within a few seconds. */
  async stop(): Promise<void> {
    this.stopping = true;
    clearInterval(this.turnCheck);
    await Promise.all(this.slots.map(async (slot) => {
      const child = slot.child;
      if (!child || child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      this.send(child, { type: 'stop' });
      const timer = setTimeout(() => child.kill('SIGKILL'), STOP_WAIT_MS);
      await exited;
      clearTimeout(timer);
    }));
  }
}

const bindMessage = (id: number, what: SharedWhat): ToForwarder =>
  'spec' in what ? { type: 'bind', id, spec: what.spec } : { type: 'http-bind', id, ...what.http };

/** The description of a binding a forwarder works from: the listener's settings and its origins' health now. */
export function bindingSpec(listener: BindingSpec['listener'], origins: OriginSet, proxyAddress: string, idleMs: number): BindingSpec {
  return {
    listener,
    proxyAddress,
    idleMs,
    health: healthSpecs(origins.states),
  };
}
