/**
 * What the console's Traffic view reads: cumulative counters and origin
 * health per proxy and listener, taken from the data plane when one runs.
 * The console computes rates from two snapshots; it never reaches into
 * the data plane itself.
 */

export interface OriginHealth {
  realServerId: string;
  /** For HTTP/HTTPS listeners: the rule the origin serves. */
  ruleId?: string;
  address: string;
  port: number;
  healthy: boolean;
  /** Connections, sessions or requests open to it now. */
  connections: number;
}

export interface ListenerTraffic {
  listenerId: string;
  protocol: string;
  /** Address and port really bound, if bound. */
  bound?: string;
  /** Connections (TCP) or sessions (UDP) open now. */
  connections: number;
  /** Accepted since start (connections or sessions). */
  accepted: number;
  bytesIn: number;
  bytesOut: number;
  /** HTTP requests since start, for layer-7 listeners. */
  requests?: number;
  origins: OriginHealth[];
}

export interface ProxyTraffic {
  account: string;
  proxyId: string;
  listeners: ListenerTraffic[];
}

export interface TrafficSnapshot {
  /** Milliseconds since the epoch when the counters were read. */
  at: number;
  proxies: ProxyTraffic[];
}

/** Handed to the console by the composition once a data plane exists. */
export type TrafficSource = () => TrafficSnapshot | Promise<TrafficSnapshot>;
