/** SQL pieces shared by the SQLite store's modules: row shapes and the checks that let names into SQL text. */
export type Row = { kind: string; id: string; parent: string | null; status: string | null; created_at: number; data: string };
export type SqlValue = string | number | null;

const FIELD_NAME = /^[A-Za-z][A-Za-z0-9_]*$/;
/** Kinds are code constants (`gaap.proxy`); ones of this shape are written into SQL as literals. */
const KIND_NAME = /^[A-Za-z0-9_.:-]+$/;

export function checkField(field: string): string {
  if (!FIELD_NAME.test(field)) throw new Error(`invalid field name for a store query: ${field}`);
  return field;
}

/**
 * Field indexes are partial (one kind each), so a write only maintains the
 * indexes of its own kind; a query can use them only when it names the kind
 * as the same literal.
 */
export const kindTerm = (kind: string): string | undefined => (KIND_NAME.test(kind) ? `kind = '${kind}'` : undefined);
