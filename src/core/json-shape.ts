/**
 * Bounds on the shape of a JSON text, checked byte by byte as it streams in,
 * before JSON.parse sees it: a hostile body nested millions of levels deep
 * (or holding millions of tiny values) is refused after its first chunk
 * instead of stalling the event loop and the heap while it is parsed.
 */
export interface JsonShapeLimits {
  maxDepth: number;
  /** Largest number of values in all containers together (counted by separators). */
  maxValues: number;
}

export class JsonShapeGuard {
  private depth = 0;
  private values = 0;
  private inString = false;
  private escaped = false;
  /** Set once a limit is passed; later chunks are not looked at. */
  problem: string | undefined;

  constructor(private readonly limits: JsonShapeLimits) {}

  /** Scans one chunk; returns the problem once a limit is passed. */
  feed(chunk: Uint8Array): string | undefined {
    if (this.problem) return this.problem;
    const { maxDepth, maxValues } = this.limits;
    let { depth, values, inString, escaped } = this;
    for (let i = 0; i < chunk.length; i++) {
      const c = chunk[i];
      if (inString) {
        if (escaped) escaped = false;
        else if (c === 0x5c) escaped = true;
        else if (c === 0x22) inString = false;
        continue;
      }
      if (c === 0x22) inString = true;
      else if (c === 0x7b || c === 0x5b) {
        if (++depth > maxDepth) {
          this.problem = `nests deeper than ${maxDepth} levels`;
          return this.problem;
        }
        values++;
      } else if (c === 0x7d || c === 0x5d) depth--;
      else if (c === 0x2c && ++values > maxValues) {
        this.problem = `holds more than ${maxValues} values`;
        return this.problem;
      }
    }
    Object.assign(this, { depth, values, inString, escaped });
    return undefined;
  }
}

/** API request bodies: far beyond every documented structure, far below what costs time. */
export const API_JSON_LIMITS: JsonShapeLimits = { maxDepth: 32, maxValues: 20_000 };
