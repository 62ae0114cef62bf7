/**
 * The JSON the console's endpoints answer, shared by the server side and the
 * browser app (no Node types here: the app's build checks this file too).
 */

export interface LoggedCallSummary {
  seq: number;
  time: string;
  protocol: 'api3' | 'cos';
  requestId: string;
  service: string | null;
  action: string | null;
  account: string | null;
  code: string | null;
  ms: number;
  fault: string | null;
}

export interface LoggedCall extends LoggedCallSummary {
  method: string;
  url: string;
  params: unknown;
}

export interface LoggedCallDetail extends LoggedCall {
  /** Null (as `params` and `response`) once newer calls have overwritten the call's bytes. */
  headers: Record<string, unknown> | null;
  response: unknown;
  /** Set when only the response's first 64 KiB were kept. */
  truncated?: true;
}

export interface PendingTransition {
  id: number;
  service: string;
  type: string;
  dueAt: string;
}

export interface ResourceRow {
  id: string;
  kind: string;
  name: string | null;
  parent: string | null;
  status: string | null;
  createdAt: string;
  fields: Record<string, unknown>;
  pending: PendingTransition[];
}
