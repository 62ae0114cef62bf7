/**
 * The shape of a traffic report: cumulative counters and live origin health
 * per proxy and listener. The data plane writes it and the console reads it;
 * it lives here so that neither imports the other.
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

/** Counters of one listener on one proxy, cumulative since the data plane started. */
export interface ListenerTraffic {
  listenerId: string;
  protocol: string;
  /** `address:port` really bound, if bound. */
  bound?: string;
  /** Connections (TCP, HTTP) or sessions (UDP) open now. */
  connections: number;
  /** Connections or sessions accepted (faulted ones included). */
  accepted: number;
  /** Bytes from clients, and to clients (HTTPS: as encrypted on the wire). */
  bytesIn: number;
  bytesOut: number;
  /** Requests, for HTTP/HTTPS listeners. */
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
  /** Proxies that have at least one listener. */
  proxies: ProxyTraffic[];
}
