/**
 * JSON text that is already serialised (records read from the store as they
 * are stored). A handler may answer a top-level field with it; the envelope
 * writes the text as it is instead of parsing and serialising it again.
 */
export class RawJson {
  /** JSON text, or its UTF-8 bytes (as read from the store, so never decoded and encoded again). */
  constructor(readonly json: string | Buffer) {}
}

/** The result with every RawJson field parsed (for checks that need values). */
export function materialize(result: Record<string, unknown>): Record<string, unknown> {
  let out: Record<string, unknown> | undefined;
  for (const [k, v] of Object.entries(result)) {
    if (v instanceof RawJson) (out ??= { ...result })[k] = JSON.parse(v.json.toString());
  }
  return out ?? result;
}
