/**
 * UDP through a listener: a session per client address and port, each with
 * its own socket towards the origin chosen when the session began, so the
 * origin's replies come back through the listener to that client. Sessions
 * idle for the configured time are closed.
 */
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { isIP } from 'node:net';
import { resolveAll } from './health';
import type { OriginState } from './origins';

export interface UdpSession {
  key: string;
  clientIp: string;
  clientPort: number;
  origin: OriginState;
  upstream: UdpSocket;
  /** Datagrams received before the upstream socket was connected. */
  queue: Buffer[] | undefined;
  lastSeen: number;
  closed: boolean;
}

export interface UdpHooks {
  /** The session's first datagram: undefined refuses it (policy, caps, no origin, a fault); `delayMs` holds the session's datagrams that long first. */
  open(clientIp: string, clientPort: number): { origin: OriginState; delayMs?: number } | undefined;
  /** One datagram each way: false drops it (over the bandwidth cap). */
  inbound(s: UdpSession, bytes: number): boolean;
  outbound(s: UdpSession, bytes: number): boolean;
  closed(s: UdpSession): void;
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
      const opened = this.hooks.open(ip, port);
      if (!opened) return;
      s = this.begin(key, ip, port, opened.origin, opened.delayMs ?? 0);
    }
    s.lastSeen = Date.now();
    if (!this.hooks.inbound(s, msg.length)) return;
    if (s.queue) s.queue.push(msg);
    else s.upstream.send(msg);
  }

  private begin(key: string, ip: string, port: number, origin: OriginState, delayMs: number): UdpSession {
    const family = isIP(origin.origin.address) === 6 ? 'udp6' : 'udp4';
    const upstream = createSocket(family);
    const s: UdpSession = { key, clientIp: ip, clientPort: port, origin, upstream, queue: [], lastSeen: Date.now(), closed: false };
    this.sessions.set(key, s);
    upstream.on('error', () => this.end(s));
    upstream.on('message', (reply) => {
      s.lastSeen = Date.now();
      if (!this.hooks.outbound(s, reply.length)) return;
      this.socket.send(reply, s.clientPort, s.clientIp);
    });
    const connect = () => resolveAll(origin.origin.address).then(
      (ips) => {
        if (s.closed) return;
        if (ips.length === 0) return this.end(s);
        upstream.connect(origin.origin.port, ips[0], () => {
          const queued = s.queue ?? [];
          s.queue = undefined;
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
    this.hooks.closed(s);
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
