/**
 * Prices quoted by InquiryPriceCreateProxy and DescribeRegionAndPrice, all
 * derived from the shared BANDWIDTH_PRICE_BANDS and the document's example
 * quote (2 × 10,000 concurrent connections → 80.64 CNY per day).
 */
import { BANDWIDTH_PRICE_BANDS } from './model';

export const CURRENCY = 'CNY';

/** Base fee per 10,000 concurrent connections per day: 80.64 / 2 in the document's example. */
export const DAILY_PRICE_PER_CONCURRENT = 40.32;

/** Per-GB price quoted for traffic billing (BillingType 1); the document gives no figure. */
export const FLOW_UNIT_PRICE = 0.8;

const round2 = (n: number): number => Math.round(n * 100) / 100;

/** BandwidthPriceGradient[]: no discount is modelled, so discount price = list price. */
export function priceGradients(): Array<{ BandwidthRange: number[]; BandwidthUnitPrice: number; DiscountBandwidthUnitPrice: number }> {
  return BANDWIDTH_PRICE_BANDS.map((b) => ({
    BandwidthRange: [b.range[0], b.range[1]],
    BandwidthUnitPrice: b.price,
    DiscountBandwidthUnitPrice: b.price,
  }));
}

/** Per-Mbps daily price of the band holding `bandwidth` (from < bandwidth ≤ to; -1 is unbounded). */
export function bandUnitPrice(bandwidth: number): number {
  const band = BANDWIDTH_PRICE_BANDS.find((b) => bandwidth > b.range[0] && (b.range[1] === -1 || bandwidth <= b.range[1]));
  return (band ?? BANDWIDTH_PRICE_BANDS[BANDWIDTH_PRICE_BANDS.length - 1]).price;
}

export interface Quote {
  ProxyDailyPrice: number;
  DiscountProxyDailyPrice: number;
  BandwidthUnitPrice: ReturnType<typeof priceGradients>;
  Currency: string;
  FlowUnitPrice: number | null;
  DiscountFlowUnitPrice: number | null;
  Cn2BandwidthPrice: number;
  Cn2BandwidthPriceWithDiscount: number;
}

export function quoteProxy(o: { bandwidth: number; concurrent: number; billingType: number; networkType: string }): Quote {
  const daily = round2(o.concurrent * DAILY_PRICE_PER_CONCURRENT);
  const flow = o.billingType === 1 ? FLOW_UNIT_PRICE : null;
  const cn2 = o.networkType === 'cn2' ? bandUnitPrice(o.bandwidth) : 0;
  return {
    ProxyDailyPrice: daily,
    DiscountProxyDailyPrice: daily,
    BandwidthUnitPrice: priceGradients(),
    Currency: CURRENCY,
    FlowUnitPrice: flow,
    DiscountFlowUnitPrice: flow,
    Cn2BandwidthPrice: cn2,
    Cn2BandwidthPriceWithDiscount: cn2,
  };
}
