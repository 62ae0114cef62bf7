import { businessParams, readApi3Request } from '../gateway/api3/request';
import type { CallRecord, CallRecorder } from '../gateway/observe';
import { ByteRing, type Encoding, type Slot } from './byte-ring';
import { maskText, maskUrl, maskValue } from './mask';
import type { LoggedCall, LoggedCallDetail, LoggedCallSummary } from './wire';

/**
 * The last N API calls, in a ring. Recording does no parsing, masking or
 * serialising, and allocates nothing that outlives the call: the summary
 * goes into columns (typed arrays, and arrays of the strings the server
 * already holds for services, actions, accounts and codes), the bytes
 * (RequestId, URL, headers, body, response) are copied into one
 * preallocated buffer. Measured, keeping a thousand calls' strings and
 * objects instead cost up to a third of a signed read's CPU: every
 * young-generation collection copied them and then promoted them.
 * Parsing and masking happen when someone reads the log.
 */

/** Past this, a body or response is kept as its first KEEP_BYTES. */
const KEEP_BYTES = 64 * 1024;
/** The RequestId, URL and headers of one call (URLs and heads are bounded by the server's header limit). */
const KEEP_META_BYTES = 2 * KEEP_BYTES;
/** Bytes kept per call on average before older calls lose their bytes (their summary stays). */
const BYTES_PER_CALL = 16 * 1024;

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

/** One logged call, decoded from the columns when the log is read. */
interface View {
  seq: number;
  index: number;
  protocol: 'api3' | 'cos';
  time: number;
  ms: number;
  service?: string;
  action?: string;
  account?: string;
  errorCode?: string;
  fault?: string;
  method: string;
}

function headersOf(head: string): Record<string, string | string[]> {
  const lines = head.split('\n');
  const out: Record<string, string | string[]> = {};
  for (let i = 0; i + 1 < lines.length; i += 2) {
    const name = lines[i].toLowerCase();
    const prior = out[name];
    out[name] = prior === undefined ? lines[i + 1] : Array.isArray(prior) ? [...prior, lines[i + 1]] : [prior, lines[i + 1]];
  }
  return out;
}

/** Slots per call: meta (RequestId, URL, headers), body, response. */
const SLOTS = 3;
const SLOT_FIELDS = 4;
const ENCODINGS: readonly Encoding[] = ['utf8', 'utf16le', 'latin1'];

export class RequestLog implements CallRecorder {
  private readonly bytes: ByteRing;
  private readonly seqs: Float64Array;
  private readonly times: Float64Array;
  private readonly mss: Float64Array;
  private readonly cos: Uint8Array;
  /** Per call and slot: absolute position, bytes kept, bytes the part had, encoding (index in ENCODINGS). */
  private readonly slots: Float64Array;
  private readonly services: Array<string | undefined>;
  private readonly actions: Array<string | undefined>;
  private readonly accounts: Array<string | undefined>;
  private readonly codes: Array<string | undefined>;
  private readonly faults: Array<string | undefined>;
  private readonly methods: string[];
  private next = 0;
  private seq = 0;

  constructor(readonly capacity: number) {
    this.bytes = new ByteRing(Math.max(capacity * BYTES_PER_CALL, 8 * KEEP_BYTES));
    this.seqs = new Float64Array(capacity);
    this.times = new Float64Array(capacity);
    this.mss = new Float64Array(capacity);
    this.cos = new Uint8Array(capacity);
    this.slots = new Float64Array(capacity * SLOTS * SLOT_FIELDS);
    this.services = new Array(capacity).fill(undefined);
    this.actions = new Array(capacity).fill(undefined);
    this.accounts = new Array(capacity).fill(undefined);
    this.codes = new Array(capacity).fill(undefined);
    this.faults = new Array(capacity).fill(undefined);
    this.methods = new Array(capacity).fill('');
  }

  record(call: CallRecord): void {
    const i = this.next;
    this.seqs[i] = ++this.seq;
    this.times[i] = call.time;
    this.mss[i] = call.ms;
    this.cos[i] = call.protocol === 'cos' ? 1 : 0;
    this.services[i] = call.service;
    this.actions[i] = call.action;
    this.accounts[i] = call.account;
    this.codes[i] = call.errorCode;
    this.faults[i] = call.fault;
    this.methods[i] = call.method;
    // HTTP heads arrive as latin1 text: written back byte for byte, as one flat string made by one join.
    this.put(i, 0, this.bytes.write(`${call.requestId}\n${call.url}\n${call.rawHeaders.join('\n')}`, KEEP_META_BYTES, 'latin1'));
    this.put(i, 1, this.bytes.write(call.body, KEEP_BYTES));
    this.put(i, 2, this.bytes.write(call.response, KEEP_BYTES));
    this.next = (i + 1) % this.capacity;
  }

  clear(): void {
    this.seqs.fill(0);
    this.next = 0;
  }

  /** Newest first. */
  query(q: RequestQuery = {}): LoggedCall[] {
    const limit = Math.min(q.limit ?? 100, this.capacity);
    const out: LoggedCall[] = [];
    for (const v of this.newestFirst()) {
      if (out.length >= limit) break;
      if (q.after !== undefined && v.seq <= q.after) break;
      if (q.since !== undefined && v.time < q.since) continue;
      if (q.service !== undefined && v.service !== q.service) continue;
      if (q.action !== undefined && v.action !== q.action) continue;
      if (q.account !== undefined && v.account !== q.account) continue;
      if (q.faulted && !v.fault) continue;
      if (q.code !== undefined) {
        if (q.code === '*' ? !v.errorCode : q.code === 'none' ? v.errorCode : v.errorCode !== q.code) continue;
      }
      const meta = this.meta(v);
      out.push({ ...summary(v, meta.requestId), method: v.method, url: maskUrl(meta.url), params: this.params(v, meta) });
    }
    return out;
  }

  get(requestId: string): LoggedCallDetail | undefined {
    for (const v of this.newestFirst()) {
      const meta = this.meta(v);
      if (meta.requestId !== requestId) continue;
      const { length, total } = this.slot(v.index, 2);
      return {
        ...summary(v, requestId), method: v.method, url: maskUrl(meta.url), params: this.params(v, meta),
        headers: meta.head === undefined ? null : (maskValue(headersOf(meta.head)) as Record<string, unknown>),
        response: this.response(v),
        ...(length < total ? { truncated: true } : {}),
      };
    }
    return undefined;
  }

  private *newestFirst(): Generator<View> {
    for (let k = 1; k <= this.capacity; k++) {
      const i = (this.next - k + this.capacity) % this.capacity;
      if (this.seqs[i] === 0) return;
      yield {
        seq: this.seqs[i], index: i, protocol: this.cos[i] ? 'cos' : 'api3', time: this.times[i], ms: this.mss[i],
        service: this.services[i], action: this.actions[i], account: this.accounts[i], errorCode: this.codes[i], fault: this.faults[i],
        method: this.methods[i],
      };
    }
  }

  private put(i: number, part: number, s: Slot): void {
    const o = (i * SLOTS + part) * SLOT_FIELDS;
    this.slots[o] = s.at;
    this.slots[o + 1] = s.length;
    this.slots[o + 2] = s.total;
    this.slots[o + 3] = ENCODINGS.indexOf(s.encoding);
  }

  private slot(i: number, part: number): Slot {
    const o = (i * SLOTS + part) * SLOT_FIELDS;
    return { at: this.slots[o], length: this.slots[o + 1], total: this.slots[o + 2], encoding: ENCODINGS[this.slots[o + 3]] };
  }

  /** RequestId, URL and header text; once overwritten, the RequestId alone is gone too (the call cannot be found by it). */
  private meta(v: View): { requestId: string; url: string; head?: string } {
    const text = this.bytes.text(this.slot(v.index, 0));
    if (text === undefined) return { requestId: '', url: '' };
    const a = text.indexOf('\n');
    const b = text.indexOf('\n', a + 1);
    return { requestId: text.slice(0, a), url: text.slice(a + 1, b), head: text.slice(b + 1) };
  }

  /** What the caller sent: API 3.0 business parameters, or a COS request's query and XML body; null once its bytes are gone. */
  private params(v: View, meta: { url: string; head?: string }): unknown {
    const slot = this.slot(v.index, 1);
    const body = this.bytes.read(slot);
    if (meta.head === undefined || body === undefined) return null;
    if (v.protocol === 'api3') {
      try {
        return maskValue(businessParams(readApi3Request(v.method, meta.url, headersOf(meta.head), Buffer.from(body))));
      } catch {
        return maskText(body.toString(slot.encoding));
      }
    }
    const q = meta.url.indexOf('?');
    const query = Object.fromEntries(new URLSearchParams(q < 0 ? '' : meta.url.slice(q + 1)));
    return { query: maskValue(query), body: maskText(body.toString(slot.encoding)) };
  }

  private response(v: View): unknown {
    const slot = this.slot(v.index, 2);
    const text = this.bytes.text(slot);
    if (text === undefined) return null;
    if (v.protocol === 'api3' && slot.length === slot.total) {
      try {
        return maskValue(JSON.parse(text));
      } catch {
        // not JSON: shown as text below
      }
    }
    return maskText(text);
  }
}

function summary(v: View, requestId: string): LoggedCallSummary {
  return {
    seq: v.seq, time: new Date(v.time).toISOString(), protocol: v.protocol, requestId,
    service: v.service ?? null, action: v.action ?? null, account: v.account ?? null, code: v.errorCode ?? null,
    ms: Math.round(v.ms * 1000) / 1000, fault: v.fault ?? null,
  };
}
