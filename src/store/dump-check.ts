/**
 * An import is checked record by record before anything is replaced, so a
 * hand-edited or truncated export is refused with the place of the first
 * bad record instead of being stored and served back (`ProxySet: [null]`)
 * or failing inside SQLite with the driver's own words.
 */
import { DUMP_TABLES } from './sqlite/migrations';
import type { StateDump } from './types';

type ColumnType = 'text' | 'string' | 'text?' | 'integer' | 'number' | 'object-json' | 'json';

/** What each exported column holds. */
const COLUMN_TYPES: Record<string, Record<string, ColumnType>> = {
  resources: { account: 'text', kind: 'text', id: 'text', parent: 'text?', status: 'text?', created_at: 'integer', data: 'object-json' },
  transitions: { id: 'integer', account: 'text', service: 'text', type: 'text', due_at: 'integer', payload: 'object-json' },
  kv: { account: 'text', ns: 'text', key: 'text', value: 'json' },
  // Sequences shared by every account are kept under the account ''.
  sequences: { account: 'string', name: 'text', value: 'integer' },
  series: { account: 'text', key: 'text', t: 'integer', value: 'number' },
};

/** Primary keys, to name a duplicate before SQLite refuses it. */
const KEYS: Record<string, readonly string[]> = {
  resources: ['account', 'kind', 'id'],
  transitions: ['id'],
  kv: ['account', 'ns', 'key'],
  sequences: ['account', 'name'],
  series: ['account', 'key', 't'],
};

export class DumpError extends Error {}

function columnProblem(type: ColumnType, value: unknown): string | undefined {
  switch (type) {
    case 'text':
      return typeof value === 'string' && value !== '' ? undefined : 'a non-empty string';
    case 'string':
      return typeof value === 'string' ? undefined : 'a string';
    case 'number':
      return typeof value === 'number' && Number.isFinite(value) ? undefined : 'a finite number';
    case 'text?':
      return value === null || value === undefined || typeof value === 'string' ? undefined : 'a string or null';
    case 'integer':
      return Number.isSafeInteger(value) ? undefined : 'an integer';
    case 'object-json':
    case 'json': {
      if (typeof value !== 'string') return 'a JSON text (a string)';
      let parsed: unknown;
      try {
        parsed = JSON.parse(value);
      } catch {
        return 'a valid JSON text';
      }
      if (type === 'object-json' && (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed))) return 'the JSON text of an object';
      if (parsed === null) return 'a JSON text other than null';
      return undefined;
    }
  }
}

/** Throws DumpError naming the first bad record (`tables.resources[12].data must be …`). */
export function checkDump(dump: StateDump): void {
  const tables = dump.tables as unknown;
  if (tables === null || typeof tables !== 'object' || Array.isArray(tables)) throw new DumpError('"tables" must be an object of tables');
  for (const [table, rows] of Object.entries(tables as Record<string, unknown>)) {
    if (!(table in DUMP_TABLES)) throw new DumpError(`tables.${table} is not a table of this tclocal (${Object.keys(DUMP_TABLES).join(', ')})`);
    if (!Array.isArray(rows)) throw new DumpError(`tables.${table} must be an array of records`);
    const types = COLUMN_TYPES[table];
    const seen = new Set<string>();
    rows.forEach((row: unknown, i) => {
      const where = `tables.${table}[${i}]`;
      if (row === null || typeof row !== 'object' || Array.isArray(row)) throw new DumpError(`${where} must be an object`);
      const record = row as Record<string, unknown>;
      for (const column of Object.keys(record)) {
        if (!(column in types)) throw new DumpError(`${where} has an unknown field "${column}"`);
      }
      for (const [column, type] of Object.entries(types)) {
        const problem = columnProblem(type, record[column]);
        if (problem) throw new DumpError(`${where}.${column} must be ${problem}`);
      }
      const key = JSON.stringify(KEYS[table].map((k) => record[k]));
      if (seen.has(key)) throw new DumpError(`${where} repeats the ${KEYS[table].join(', ')} of an earlier record`);
      seen.add(key);
    });
  }
}
