/**
 * What the wire protocols hand to an observer of the calls they serve (the
 * request log) and what they ask of a fault plan. The gateway knows neither
 * implementation; the composition wires them.
 */

/** The outcome of one API call, as the protocol saw it. */
export interface CallSummary {
  requestId: string;
  service?: string;
  action?: string;
  /** The caller's uin, once authenticated. */
  account?: string;
  /** Error code answered, if the call failed. */
  errorCode?: string;
  /** Id of the fault rule that answered or delayed the call. */
  fault?: string;
}

/**
 * One call as received and answered. Bodies are the buffers the server
 * already holds (never copied here): an observer keeps references and reads
 * them later.
 */
export interface CallRecord extends CallSummary {
  protocol: 'api3' | 'cos';
  /** Milliseconds since the epoch when the request arrived. */
  time: number;
  ms: number;
  method: string;
  url: string;
  /** Header names and values as received, alternating (Node's `rawHeaders`). */
  rawHeaders: string[];
  body: Buffer;
  response: string | Buffer | Buffer[];
}

export interface CallRecorder {
  record(call: CallRecord): void;
}

/** Which call a fault plan is asked about. */
export interface CallTarget {
  protocol: 'api3' | 'cos';
  service: string;
  action: string;
  account: string;
}

/** What a fault rule makes of a call: wait, then (optionally) fail with a code. */
export interface FaultDecision {
  rule: string;
  delayMs: number;
  error?: { code: string; message: string };
}

export interface FaultPlan {
  /** Undefined when no rule applies; consumes one use of a counted rule. */
  decide(target: CallTarget): FaultDecision | undefined;
}

/** Waits out a decision's delay. */
export const faultDelay = (d: FaultDecision): Promise<void> | undefined =>
  d.delayMs > 0 ? new Promise((resolve) => setTimeout(resolve, d.delayMs)) : undefined;
