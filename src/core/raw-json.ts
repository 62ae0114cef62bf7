/**
 * JSON text that is already serialised (records read from the store as they
 * are stored). A handler may answer a top-level field with it; the envelope
 * writes the text as it is instead of parsing and serialising it again.
 */
export class RawJson {
  constructor(readonly json: string) {}

  /** An array of already-serialised items. */
  static array(items: readonly string[]): RawJson {
    return new RawJson(`[${items.join(',')}]`);
  }
}

/** The result with every RawJson field parsed (for checks that need values). */
export function materialize(result: Record<string, unknown>): Record<string, unknown> {
  let out: Record<string, unknown> | undefined;
  for (const [k, v] of Object.entries(result)) {
    if (v instanceof RawJson) (out ??= { ...result })[k] = JSON.parse(v.json);
  }
  return out ?? result;
}
