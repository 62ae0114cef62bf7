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
  /** The data plane's live health of the origins this resource is or holds (absent: the data plane knows none). */
  live?: LiveOrigin[];
}

/** The resource kinds a live origin binding names (the data plane is GAAP's). */
export const LIVE_KINDS = { proxy: 'gaap.proxy', listener: 'gaap.listener', rule: 'gaap.rule', realServer: 'gaap.realserver' } as const;

/** One origin binding as the running data plane sees it now. */
export interface LiveOrigin {
  proxyId: string;
  listenerId: string;
  ruleId: string | null;
  realServerId: string;
  address: string;
  port: number;
  healthy: boolean;
  connections: number;
}
