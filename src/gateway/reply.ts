import type { CallSummary } from './observe';

/** A reply written by a protocol handler other than API 3.0. */
export interface RawReply {
  status: number;
  headers: Record<string, string>;
  /** Chunks are written in order, in one system call, without being joined first. */
  body: string | Buffer | Buffer[];
  /** For API calls: what the request log records of it. */
  call?: CallSummary;
}
