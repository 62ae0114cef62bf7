/**
 * A fixed buffer written round and round. Each part is copied in whole and
 * found again by its absolute position until newer writes cover it. Nothing
 * is allocated per write, so keeping the last thousand calls' bytes costs
 * the collector nothing.
 */

/** Where a part was written: absolute position, bytes kept, bytes it had, and how its text was encoded. */
export interface Slot {
  at: number;
  length: number;
  total: number;
  encoding: Encoding;
}

/**
 * `utf16le` is the default for strings: V8 copies a string's units out as
 * they are, about twenty times faster than encoding UTF-8 for text with
 * Chinese in it. `latin1` for text that came from HTTP heads (one byte per
 * unit), `utf8` for bytes that already were.
 */
export type Encoding = 'utf16le' | 'latin1' | 'utf8';

const BYTES_PER_UNIT: Record<Encoding, number> = { utf16le: 2, latin1: 1, utf8: 3 };

export class ByteRing {
  private readonly buf: Buffer;
  /** Bytes ever written, the absolute position of the next write. */
  private end = 0;

  constructor(readonly size: number) {
    this.buf = Buffer.allocUnsafe(size);
  }

  /** Copies up to `max` bytes of `data` in (`max` at most a quarter of the ring). */
  write(data: string | Buffer | readonly Buffer[], max: number, encoding: 'utf16le' | 'latin1' = 'utf16le'): Slot {
    if (typeof data === 'string') {
      const perUnit = BYTES_PER_UNIT[encoding];
      const reserve = Math.min(data.length * perUnit, max - (max % perUnit));
      const at = this.reserve(reserve);
      const length = this.buf.write(data, at % this.size, reserve, encoding);
      this.end = at + length;
      return { at, length, total: data.length * perUnit, encoding };
    }
    const chunks = Buffer.isBuffer(data) ? [data] : data;
    let total = 0;
    for (const c of chunks) total += c.length;
    const at = this.reserve(Math.min(total, max));
    let offset = at % this.size;
    let left = Math.min(total, max);
    for (const c of chunks) {
      if (left === 0) break;
      const n = Math.min(c.length, left);
      this.buf.set(n === c.length ? c : c.subarray(0, n), offset);
      offset += n;
      left -= n;
    }
    const length = Math.min(total, max);
    this.end = at + length;
    return { at, length, total, encoding: 'utf8' };
  }

  /** The part's text, or undefined once newer writes covered it. */
  text(slot: Slot): string | undefined {
    return this.read(slot)?.toString(slot.encoding);
  }

  /** The part's bytes (a view into the ring: copy or decode at once), or undefined once newer writes covered it. */
  read(slot: Slot): Buffer | undefined {
    if (slot.at < this.end - this.size) return undefined;
    const offset = slot.at % this.size;
    return this.buf.subarray(offset, offset + slot.length);
  }

  /** Position where `bytes` fit without crossing the end of the buffer. */
  private reserve(bytes: number): number {
    const offset = this.end % this.size;
    return offset + bytes > this.size ? this.end + (this.size - offset) : this.end;
  }
}
