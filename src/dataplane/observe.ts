import type { Socket } from 'node:net';

/**
 * What the data plane offers beyond forwarding, through narrow shapes the
 * composition wires: cumulative counters and live origin health for an
 * observer (the console's Traffic view), and a question it asks about each
 * new connection (fault injection). The data plane knows neither side.
 */

/** What to do with a new connection (or UDP session) instead of forwarding it at once. */
export interface ConnectionFault {
  /** refuse: reset on arrival; reset: reset when the client's first bytes arrive; delay: hold for delayMs, then forward. */
  effect: 'refuse' | 'reset' | 'delay';
  delayMs: number;
}

/** Asked once per new connection or session of a listener on a proxy; undefined: forward as usual. */
export type ConnectionFaults = (proxyId: string, listenerId: string) => ConnectionFault | undefined;

export interface OriginLive {
  realServerId: string;
  /** For HTTP/HTTPS listeners: the rule the origin serves. */
  ruleId?: string;
  address: string;
  port: number;
  healthy: boolean;
  /** Connections, sessions or requests open to it now. */
  connections: number;
}

/** Counters of one listener on one proxy, cumulative since the data plane started. */
export interface ListenerLive {
  listenerId: string;
  protocol: string;
  /** `address:port` really bound, if bound. */
  bound?: string;
  /** Connections (TCP, HTTP) or sessions (UDP) open now. */
  connections: number;
  /** Connections or sessions accepted (faulted ones included). */
  accepted: number;
  /** Bytes from clients, and to clients (HTTPS: as encrypted on the wire). */
  bytesIn: number;
  bytesOut: number;
  /** Requests, for HTTP/HTTPS listeners. */
  requests?: number;
  origins: OriginLive[];
}

export interface TrafficReport {
  /** Milliseconds since the epoch when the counters were read. */
  at: number;
  /** Proxies that have at least one listener. */
  proxies: Array<{ account: string; proxyId: string; listeners: ListenerLive[] }>;
}

/** Cumulative counters of a listener binding: what closed connections carried, plus the open ones read on demand. */
export class BindingCounters {
  accepted = 0;
  /** Bytes of connections already closed (UDP: every datagram). */
  bytesIn = 0;
  bytesOut = 0;
  requests = 0;

  /** Bytes so far: the closed connections' and what the open client sockets have carried until now. */
  bytesWith(open: Iterable<{ bytesRead: number; bytesWritten: number }>): { bytesIn: number; bytesOut: number } {
    let bytesIn = this.bytesIn;
    let bytesOut = this.bytesOut;
    for (const s of open) {
      bytesIn += s.bytesRead;
      bytesOut += s.bytesWritten;
    }
    return { bytesIn, bytesOut };
  }
}

/**
 * A fault on an accepted TCP connection: refuse resets it at once; reset
 * waits for the client's first bytes (or its end) and resets then; delay
 * holds the connection, unread, before `proceed` forwards it. The origin is
 * never contacted for refuse and reset.
 */
export function applyConnectionFault(f: ConnectionFault, socket: Socket, idleMs: number, proceed: () => void): void {
  if (f.effect === 'refuse') {
    socket.resetAndDestroy();
    return;
  }
  if (f.effect === 'reset') {
    const reset = () => socket.destroyed || socket.resetAndDestroy();
    socket.once('data', reset);
    socket.once('end', reset);
    socket.setTimeout(idleMs, () => socket.destroy());
    return;
  }
  const timer = setTimeout(() => socket.destroyed || proceed(), f.delayMs);
  socket.once('close', () => clearTimeout(timer));
}
