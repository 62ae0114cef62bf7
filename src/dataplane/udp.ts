/**
 * UDP through a listener: a session per client address and port, each with
 * its own socket towards the origin chosen when the session began, so the
 * origin's replies come back through the listener to that client. Sessions
 * idle for the configured time are closed.
 */
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { lookup } from 'node:dns';
import { isIP } from 'node:net';
import { resolveAll } from './health';
import { measureRtt, type OriginState } from './origins';

export interface UdpSession {
  key: string;
  clientIp: string;
  clientPort: number;
  origin: OriginState;
  /** What the session's datagrams are checked and counted against, fixed when it began. */
  tap: UdpTap;
  upstream: UdpSocket;
  /** Datagrams received before the upstream socket was connected. */
  queue: Buffer[] | undefined;
  lastSeen: number;
  closed: boolean;
  /** When the first datagrams went to the origin, until its first reply (0 then): that round trip feeds lrtt. */
  sentAt: number;
}

/** One session's view of its proxy: resolved once, when the session begins, so a datagram costs no lookup. */
export interface UdpTap {
  origin: OriginState;
  /** One datagram each way: false drops it (over the bandwidth cap). */
  inbound(bytes: number): boolean;
  outbound(bytes: number): boolean;
  closed(): void;
  /** A delay fault: the session's datagrams are held that long first. */
  delayMs?: number;
}

export interface UdpHooks {
  /** The session's first datagram: undefined refuses it (policy, caps, no origin, a fault). */
  open(clientIp: string, clientPort: number): UdpTap | undefined;
}

/**
 * A listener's socket. Its replies go to each client's address as received,
 * an IP literal; Node resolves a send's address first, and dns.lookup answers
 * even a literal on the next tick, a needless step per datagram.
 */
export function listenerUdpSocket(type: 'udp4' | 'udp6'): UdpSocket {
  return createSocket({
    type,
    lookup: (host, family, done) => {
      const literal = isIP(host);
      if (literal) done(null, host, literal);
      else lookup(host, family, done);
    },
  });
}

/** Sessions of one bound listener socket. */
export class UdpSessions {
  readonly sessions = new Map<string, UdpSession>();
  private sweeper: NodeJS.Timeout;

  constructor(
    private readonly socket: UdpSocket,
    private readonly hooks: UdpHooks,
    private readonly idleMs: number,
  ) {
    socket.on('message', (msg, rinfo) => this.datagram(msg, rinfo.address, rinfo.port));
    this.sweeper = setInterval(() => this.sweep(), Math.max(50, Math.min(idleMs / 2, 5000)));
    this.sweeper.unref();
  }

  private datagram(msg: Buffer, ip: string, port: number): void {
    const key = `${ip}|${port}`;
    let s = this.sessions.get(key);
    if (!s) {
      const tap = this.hooks.open(ip, port);
      if (!tap) return;
      s = this.begin(key, ip, port, tap);
    }
    s.lastSeen = Date.now();
    if (!s.tap.inbound(msg.length)) return;
    if (s.queue) s.queue.push(msg);
    else s.upstream.send(msg);
  }

  private begin(key: string, ip: string, port: number, tap: UdpTap): UdpSession {
    const { origin } = tap;
    const delayMs = tap.delayMs ?? 0;
    const family = isIP(origin.origin.address) === 6 ? 'udp6' : 'udp4';
    const upstream = createSocket(family);
    const s: UdpSession = { key, clientIp: ip, clientPort: port, origin, tap, upstream, queue: [], lastSeen: Date.now(), closed: false, sentAt: 0 };
    this.sessions.set(key, s);
    upstream.on('error', () => this.end(s));
    upstream.on('message', (reply) => {
      s.lastSeen = Date.now();
      if (s.sentAt > 0) {
        measureRtt(origin, performance.now() - s.sentAt);
        s.sentAt = 0;
      }
      if (!s.tap.outbound(reply.length)) return;
      this.socket.send(reply, s.clientPort, s.clientIp);
    });
    const connect = () => resolveAll(origin.origin.address).then(
      (ips) => {
        if (s.closed) return;
        if (ips.length === 0) return this.end(s);
        upstream.connect(origin.origin.port, ips[0], () => {
          const queued = s.queue ?? [];
          s.queue = undefined;
          s.sentAt = performance.now();
          for (const m of queued) upstream.send(m);
        });
      },
      () => this.end(s),
    );
    // Datagrams queue until the upstream socket is connected: a delayed session connects later.
    if (delayMs > 0) setTimeout(() => void (s.closed || connect()), delayMs).unref();
    else void connect();
    return s;
  }

  end(s: UdpSession): void {
    if (s.closed) return;
    s.closed = true;
    this.sessions.delete(s.key);
    try {
      s.upstream.close();
    } catch {
      // Already closed.
    }
    s.tap.closed();
  }

  private sweep(): void {
    const limit = Date.now() - this.idleMs;
    for (const s of this.sessions.values()) if (s.lastSeen < limit) this.end(s);
  }

  close(): void {
    clearInterval(this.sweeper);
    for (const s of [...this.sessions.values()]) this.end(s);
  }
}
