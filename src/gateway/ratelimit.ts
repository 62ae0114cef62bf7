/**
 * Requests per second per (account, service, action), counted in one-second
 * windows, as the API documents state their limits.
 */
export class RateLimiter {
  private readonly windows = new Map<string, { second: number; count: number }>();

  /** True when the call fits in its limit (and counts it). */
  take(key: string, limit: number, nowMs: number): boolean {
    const second = Math.floor(nowMs / 1000);
    let w = this.windows.get(key);
    if (!w || w.second !== second) {
      if (this.windows.size > 100_000) this.windows.clear();
      w = { second, count: 0 };
      this.windows.set(key, w);
    }
    if (w.count >= limit) return false;
    w.count++;
    return true;
  }
}
