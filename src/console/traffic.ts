/**
 * What the console's Traffic view reads: cumulative counters and origin
 * health per proxy and listener, taken from the data plane when one runs.
 * The console computes rates from two snapshots; it never reaches into
 * the data plane itself.
 */

import type { TrafficSnapshot } from '../core/traffic';

export type { ListenerTraffic, OriginHealth, ProxyTraffic, TrafficSnapshot } from '../core/traffic';

/** Handed to the console by the composition once a data plane exists. */
export type TrafficSource = () => TrafficSnapshot | Promise<TrafficSnapshot>;
