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

/** The report's parts under the names the data plane uses. */
export type { ListenerTraffic as ListenerLive, OriginHealth as OriginLive, TrafficSnapshot as TrafficReport } from '../core/traffic';

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
