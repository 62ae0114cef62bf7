/**
 * A proxy's bandwidth in one direction, shared by all its connections and
 * listeners (TCP, UDP, HTTP, HTTPS): a token bucket that may run into debt.
 * A stream reader that takes a chunk pauses until the debt is paid back
 * (shaping); a UDP datagram that finds the bucket in debt is dropped
 * (policing).
 */
import type { Readable, Writable } from 'node:stream';

/** Tokens the bucket holds at most: this much of a second's rate passes at once after a quiet spell, and never less than the largest datagram. */
const BURST_SECONDS = 0.05;
const MIN_BURST = 65_536;

export class Bucket {
  private tokens: number;
  private last = performance.now();

  constructor(private bytesPerSecond: number) {
    this.tokens = this.burst();
  }

  private burst(): number {
    return Math.max(MIN_BURST, this.bytesPerSecond * BURST_SECONDS);
  }

  setMbps(mbps: number): void {
    this.bytesPerSecond = (mbps * 1_000_000) / 8;
  }

  private refill(): void {
    const now = performance.now();
    this.tokens = Math.min(this.burst(), this.tokens + ((now - this.last) / 1000) * this.bytesPerSecond);
    this.last = now;
  }

  /** Takes `n` bytes; returns the milliseconds to wait before taking more (0: none). */
  take(n: number): number {
    this.refill();
    this.tokens -= n;
    return this.tokens >= 0 ? 0 : (-this.tokens / this.bytesPerSecond) * 1000;
  }

  /** Takes `n` bytes only if the bucket holds them. */
  tryTake(n: number): boolean {
    this.refill();
    if (this.tokens < n) return false;
    this.tokens -= n;
    return true;
  }
}

export const bucketFor = (mbps: number): Bucket => new Bucket((mbps * 1_000_000) / 8);

/** A proxy's buckets, per direction (in: from clients). */
export interface Limits {
  in: Bucket;
  out: Bucket;
}

/**
 * Like src.pipe(dst), paced by `bucket` when one is given, with
 * backpressure from `dst` kept (a socket, or an HTTP body towards or from
 * an origin). It registers three listeners where pipe registers seven and
 * keeps their bookkeeping: a short exchange pays for each.
 */
export function pacedPipe(src: Readable, dst: Writable, bucket?: Bucket): void {
  src.on('data', (chunk: Buffer) => {
    const flushed = dst.write(chunk);
    const wait = bucket ? bucket.take(chunk.length) : 0;
    if (wait === 0 && flushed) return;
    src.pause();
    let pending = (wait > 0 ? 1 : 0) + (flushed ? 0 : 1);
    const resume = () => {
      if (--pending === 0 && !src.destroyed) src.resume();
    };
    if (wait > 0) setTimeout(resume, wait);
    if (!flushed) dst.once('drain', resume);
  });
  src.on('end', () => dst.end());
}
