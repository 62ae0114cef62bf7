/**
 * Client connections of one HTTP/HTTPS listener on one proxy: admitted
 * against the proxy's Concurrent cap (shared with its TCP and UDP
 * listeners), counted open while they last, and their bytes counted into
 * the statistics when they close and, while they stay open, at each flush.
 * Bytes are those on the wire (TLS records included for HTTPS).
 */
import type { Socket } from 'node:net';
import type { Limits } from './caps';
import type { Entity } from './counters';

/** Where connections are admitted and counted (the data plane's proxies and counters). */
export interface ConnectionLedger {
  /** A new client connection through `proxyId`: false refuses it (the proxy's Concurrent cap); true counts it open. */
  open(account: string, proxyId: string, entities: readonly Entity[]): boolean;
  close(account: string, proxyId: string, entities: readonly Entity[]): void;
  bytes(account: string, entities: readonly Entity[], inBytes: number, outBytes: number): void;
  /** The proxy's bandwidth buckets, shared with its other listeners; undefined when bandwidth is not capped. */
  limits(account: string, proxyId: string): Limits | undefined;
}

interface Tracked {
  socket: Socket;
  countedIn: number;
  countedOut: number;
}

export class ClientConnections {
  private readonly live = new Set<Tracked>();

  constructor(
    private readonly account: string,
    private readonly proxyId: string,
    /** What the traffic counts for: the listener, the proxy, the listener's group. */
    private readonly entities: readonly Entity[],
    private readonly ledger: ConnectionLedger,
  ) {}

  /** A new connection: false when the cap refuses it; otherwise it is counted until it closes. */
  admit(socket: Socket): boolean {
    if (!this.ledger.open(this.account, this.proxyId, this.entities)) return false;
    const t: Tracked = { socket, countedIn: 0, countedOut: 0 };
    this.live.add(t);
    socket.once('close', () => {
      this.live.delete(t);
      this.count(t);
      this.ledger.close(this.account, this.proxyId, this.entities);
    });
    return true;
  }

  /** Counts the bytes open connections carried since the last count. */
  sample(): void {
    for (const t of this.live) this.count(t);
  }

  get size(): number {
    return this.live.size;
  }

  private count(t: Tracked): void {
    const inBytes = t.socket.bytesRead - t.countedIn;
    const outBytes = t.socket.bytesWritten - t.countedOut;
    if (inBytes === 0 && outBytes === 0) return;
    t.countedIn += inBytes;
    t.countedOut += outBytes;
    this.ledger.bytes(this.account, this.entities, inBytes, outBytes);
  }
}
