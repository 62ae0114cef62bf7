import { ApiError } from '../../core/errors';

/** Largest array index accepted in flattened keys; real requests stay far below it. */
const MAX_INDEX = 9999;
const MAX_DEPTH = 16;

type Node = { [key: string]: Node | string };

/**
 * Rebuilds nested values from flattened form/query keys (`Filters.0.Values.1`):
 * numeric segments are array indexes (0-based, ordered numerically, gaps
 * closed), other segments object keys. Conflicting keys are an error naming
 * the parameter.
 */
export function unflatten(params: Map<string, string>): Record<string, unknown> {
  const root: Node = Object.create(null);
  for (const [key, value] of params) {
    const parts = key.split('.');
    if (parts.length > MAX_DEPTH || parts.some((p) => p === '')) throw malformed(key);
    let node = root;
    for (let i = 0; i < parts.length; i++) {
      const part = parts[i];
      if (/^\d+$/.test(part) && Number(part) > MAX_INDEX) throw malformed(key);
      const last = i === parts.length - 1;
      const existing = node[part];
      if (last) {
        if (existing !== undefined && typeof existing !== 'string') throw malformed(key);
        node[part] = value;
      } else {
        if (typeof existing === 'string') throw malformed(key);
        node = (existing as Node | undefined) ?? (node[part] = Object.create(null) as Node);
      }
    }
  }
  return build(root, '') as Record<string, unknown>;
}

function build(node: Node, path: string): unknown {
  const keys = Object.keys(node);
  const numeric = keys.filter((k) => /^\d+$/.test(k));
  if (numeric.length > 0 && path !== '') {
    if (numeric.length !== keys.length) throw malformed(path);
    return numeric
      .map(Number)
      .sort((a, b) => a - b)
      .map((i) => leaf(node[String(i)], `${path}.${i}`));
  }
  if (numeric.length > 0) throw malformed(numeric[0]);
  const out: Record<string, unknown> = {};
  for (const k of keys) out[k] = leaf(node[k], path ? `${path}.${k}` : k);
  return out;
}

const leaf = (v: Node | string, path: string): unknown => (typeof v === 'string' ? v : build(v, path));

const malformed = (key: string) =>
  new ApiError('InvalidParameter', `The flattened parameter \`${key}\` is malformed or conflicts with another parameter.`);
