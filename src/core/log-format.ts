/**
 * How log lines look: JSON lines for machines (pino's own output), or one
 * readable line per record for a person at a terminal. The readable form is
 * made from pino's JSON line, so both carry the same facts.
 */

const LEVELS: Record<number, string> = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO', 40: 'WARN', 50: 'ERROR', 60: 'FATAL' };

/** Fields every record has; the rest are shown as key=value. */
const BASE = new Set(['level', 'time', 'pid', 'hostname', 'msg']);
/** Fields of a request line shown in its own layout. */
const REQUEST = new Set([...BASE, 'requestId', 'service', 'action', 'account', 'ms', 'code', 'message', 'params']);

const clock = (t: number) => new Date(t).toISOString().slice(11, 23);

const rest = (o: Record<string, unknown>, skip: Set<string>) =>
  Object.entries(o)
    .filter(([k]) => !skip.has(k))
    .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
    .join(' ');

/** One readable line for a pino JSON record. */
export function readableLine(json: string): string {
  let o: Record<string, unknown>;
  try {
    o = JSON.parse(json);
  } catch {
    return json;
  }
  const time = clock(Number(o.time));
  if (o.msg === 'request') {
    const what = `${o.service ?? '-'} ${o.action ?? '-'}`;
    const result = o.code ? `${o.code}: ${o.message ?? ''}` : 'ok';
    const line = `${time} ${String(o.account ?? '-').padEnd(12)} ${what.padEnd(40)} ${result} (${Number(o.ms).toFixed(1)} ms)`;
    const extra = rest(o, REQUEST);
    return `${line}${extra ? ' ' + extra : ''}${o.params !== undefined ? `\n    params ${JSON.stringify(o.params)}` : ''}\n`;
  }
  const level = LEVELS[Number(o.level)] ?? String(o.level);
  const extra = rest(o, BASE);
  const err = o.err as { stack?: string } | undefined;
  return `${time} ${level} ${o.msg ?? ''}${extra && !err ? ' ' + extra : ''}${err?.stack ? '\n' + err.stack : ''}\n`;
}

/** A pino destination writing readable lines to `out`. */
export const readableStream = (out: { write(text: string): unknown }) => ({
  write(chunk: string): void {
    out.write(readableLine(chunk.endsWith('\n') ? chunk.slice(0, -1) : chunk));
  },
});

/** Names whose values are secrets in request parameters. */
const SECRET_NAME = /(key|secret|password|passwd|token|signature)$/i;

/** Request parameters for a log: secret values replaced, long strings cut. */
export function maskParams(value: unknown, name = ''): unknown {
  if (typeof value === 'string') {
    if (SECRET_NAME.test(name)) return '***';
    return value.length > 200 ? `${value.slice(0, 200)}…(${value.length} chars)` : value;
  }
  if (Array.isArray(value)) return value.map((v) => maskParams(v, name));
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, maskParams(v, k)]));
  }
  return value;
}

/**
 * An error message for a log: SecretIds keep their first 8 characters, and
 * whatever a caller sent as its SecretId keeps 4 when it is not one (a
 * SecretKey pasted into the wrong field is the usual slip).
 */
export const maskMessage = (message: string): string =>
  message
    .replace(/(SecretId `)([^`]*)`/g, (_, head: string, id: string) => `${head}${id.slice(0, id.startsWith('AKID') ? 8 : 4)}…\``)
    .replace(/\b(AKID[A-Za-z0-9]{4})[A-Za-z0-9]+/g, '$1…');
