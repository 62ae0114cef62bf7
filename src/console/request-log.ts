import { businessParams, readApi3Request } from '../gateway/api3/request';
import type { CallRecord, CallRecorder } from '../gateway/observe';
import { maskText, maskUrl, maskValue } from './mask';
import type { LoggedCall, LoggedCallDetail, LoggedCallSummary } from './wire';

/**
 * The last N API calls, in a ring. Recording keeps references to what the
 * server already holds (headers, body and response buffers) and costs one
 * object per call; parsing, masking and serialising happen only when someone
 * reads the log.
 */

/** Past this, a body is kept as a truncated copy so that a full ring holds a bounded amount of memory. */
const KEEP_BYTES = 64 * 1024;

interface Entry {
  seq: number;
  call: CallRecord;
  /** Set when the response was too large to keep whole. */
  responseBytes?: number;
}

export interface RequestQuery {
  service?: string;
  action?: string;
  account?: string;
  /** An error code; `*` any failed call; `none` successful calls only. */
  code?: string;
  /** Calls at or after this time (ms since the epoch). */
  since?: number;
  /** Calls with a sequence number above this (for polling). */
  after?: number;
  /** Only calls a fault rule touched. */
  faulted?: boolean;
  limit?: number;
}

const byteLength = (body: CallRecord['response']): number => {
  if (typeof body === 'string') return body.length; // chars: a cheap bound check, not exact bytes
  if (Buffer.isBuffer(body)) return body.length;
  let n = 0;
  for (const chunk of body) n += chunk.length;
  return n;
};

const textOf = (body: CallRecord['response']): string =>
  typeof body === 'string' ? body : Buffer.isBuffer(body) ? body.toString('utf8') : Buffer.concat(body).toString('utf8');

export class RequestLog implements CallRecorder {
  private readonly ring: Array<Entry | undefined>;
  private next = 0;
  private seq = 0;

  constructor(readonly capacity: number) {
    this.ring = new Array(capacity);
  }

  record(call: CallRecord): void {
    const entry: Entry = { seq: ++this.seq, call };
    if (call.body.length > KEEP_BYTES) call.body = Buffer.from(call.body.subarray(0, KEEP_BYTES));
    const size = byteLength(call.response);
    if (size > KEEP_BYTES) {
      entry.responseBytes = size;
      call.response = textOf(call.response).slice(0, KEEP_BYTES);
    }
    this.ring[this.next] = entry;
    this.next = (this.next + 1) % this.capacity;
  }

  clear(): void {
    this.ring.fill(undefined);
    this.next = 0;
  }

  /** Newest first. */
  query(q: RequestQuery = {}): LoggedCall[] {
    const limit = Math.min(q.limit ?? 100, this.capacity);
    const out: LoggedCall[] = [];
    for (let i = 1; i <= this.capacity && out.length < limit; i++) {
      const entry = this.ring[(this.next - i + this.capacity) % this.capacity];
      if (!entry) break;
      if (q.after !== undefined && entry.seq <= q.after) break;
      const c = entry.call;
      if (q.since !== undefined && c.time < q.since) continue;
      if (q.service !== undefined && c.service !== q.service) continue;
      if (q.action !== undefined && c.action !== q.action) continue;
      if (q.account !== undefined && c.account !== q.account) continue;
      if (q.faulted && !c.fault) continue;
      if (q.code !== undefined) {
        if (q.code === '*' ? !c.errorCode : q.code === 'none' ? c.errorCode : c.errorCode !== q.code) continue;
      }
      out.push({ ...summary(entry), method: c.method, url: maskUrl(c.url), params: params(c) });
    }
    return out;
  }

  get(requestId: string): LoggedCallDetail | undefined {
    const entry = this.ring.find((e) => e?.call.requestId === requestId);
    if (!entry) return undefined;
    const c = entry.call;
    const headers: Record<string, unknown> = maskValue({ ...c.headers }) as Record<string, unknown>;
    return {
      ...summary(entry), method: c.method, url: maskUrl(c.url), params: params(c), headers,
      response: response(c, entry.responseBytes !== undefined),
      ...(entry.responseBytes !== undefined ? { truncatedResponseBytes: entry.responseBytes } : {}),
    };
  }
}

function summary(e: Entry): LoggedCallSummary {
  const c = e.call;
  return {
    seq: e.seq, time: new Date(c.time).toISOString(), protocol: c.protocol, requestId: c.requestId,
    service: c.service ?? null, action: c.action ?? null, account: c.account ?? null, code: c.errorCode ?? null,
    ms: Math.round(c.ms * 1000) / 1000, fault: c.fault ?? null,
  };
}

/** What the caller sent: API 3.0 business parameters, or a COS request's query and XML body. */
function params(c: CallRecord): unknown {
  if (c.protocol === 'api3') {
    try {
      return maskValue(businessParams(readApi3Request(c.method, c.url, c.headers, c.body)));
    } catch {
      return maskText(c.body.toString('utf8'));
    }
  }
  const q = c.url.indexOf('?');
  const query = Object.fromEntries(new URLSearchParams(q < 0 ? '' : c.url.slice(q + 1)));
  return { query: maskValue(query), body: maskText(c.body.toString('utf8')) };
}

function response(c: CallRecord, truncated: boolean): unknown {
  const text = textOf(c.response);
  if (c.protocol === 'api3' && !truncated) {
    try {
      return maskValue(JSON.parse(text));
    } catch {
      // not JSON: shown as text below
    }
  }
  return maskText(text);
}
