/**
 * Read-only GAAP catalogue: regions, capacities, prices, country codes and
 * the forbidden custom headers. Every answer comes from the shared region
 * table (regions.ts), so that these lists and the checks of the proxy
 * actions agree.
 */
import { ApiError, invalidParameterValue } from '../../../core/errors';
import { RawJson } from '../../../core/raw-json';
import type { DescribeAccessRegionsByDestRegionRequest, DescribeDestRegionsRequest, DescribeRegionAndPriceRequest, GaapActions, InquiryPriceCreateProxyRequest } from '../../../spec/gaap.types';
import type { HandlerPart, TransitionHandler } from '../../types';
import { BLACK_HEADERS } from './black-headers';
import { countryAreaMappingList } from './countries';
import { CURRENCY, priceGradients, quoteProxy } from './pricing';
import {
  accessRegionDetail,
  accessRegionsMatching,
  destRegionsMatching,
  networkTypesOf,
  parseIpVersion,
  parsePackageType,
  unknownAccessRegion,
  unknownDestRegion,
  FEATURE,
} from './regions';
import { accessRegions, BANDWIDTH_LIST, CONCURRENT_LIST, destRegions, findRegion, isAccessRegion, isDestRegion, regionDetail } from './model';

/**
 * The region table never changes while the server runs, so each distinct
 * list is serialised once and answered as it is afterwards.
 */
const serialized = new Map<string, { count: number; json: RawJson }>();

function staticList(key: string, build: () => unknown[]): { count: number; json: RawJson } {
  let hit = serialized.get(key);
  if (!hit) {
    const list = build();
    hit = { count: list.length, json: new RawJson(JSON.stringify(list)) };
    serialized.set(key, hit);
  }
  return hit;
}

export const handlers = {
  DescribeAccessRegions: async () => {
    const set = staticList('access', () => accessRegions().map(regionDetail));
    return { TotalCount: set.count, AccessRegionSet: set.json };
  },

  DescribeDestRegions: async (input: DescribeDestRegionsRequest) => {
    if (input.QualityType !== undefined && input.QualityType !== 0 && input.QualityType !== 1) {
      throw invalidParameterValue('QualityType', 'expected 0 (gold) or 1 (silver)');
    }
    // Both qualities are offered to every destination region.
    const set = staticList('dest', () => destRegions().map(regionDetail));
    return { TotalCount: set.count, DestRegionSet: set.json };
  },

  DescribeAccessRegionsByDestRegion: async (input: DescribeAccessRegionsByDestRegionRequest) => {
    const filter = { ipVersion: parseIpVersion(input.IPAddressVersion), packageType: parsePackageType(input.PackageType) };
    if (!isDestRegion(input.DestRegion)) throw unknownDestRegion('DestRegion', input.DestRegion);
    const set = staticList(`by:${input.DestRegion}:${filter.ipVersion}:${filter.packageType}`, () => accessRegionsMatching(input.DestRegion, filter).map(accessRegionDetail));
    return { TotalCount: set.count, AccessRegionSet: set.json };
  },

  DescribeCountryAreaMapping: async (_input: unknown, ctx) => ({
    CountryAreaMappingList: staticList(`countries:${ctx.language}`, () => countryAreaMappingList(ctx.language)).json,
  }),

  DescribeRegionAndPrice: async (input: DescribeRegionAndPriceRequest) => {
    const filter = { ipVersion: parseIpVersion(input.IPAddressVersion), packageType: parsePackageType(input.PackageType) };
    const set = staticList(`priced:${filter.ipVersion}:${filter.packageType}`, () => destRegionsMatching(filter).map(regionDetail));
    return { TotalCount: set.count, DestRegionSet: set.json, BandwidthUnitPrice: priceGradients(), Currency: CURRENCY };
  },

  InquiryPriceCreateProxy: async (input: InquiryPriceCreateProxyRequest) => {
    const concurrent = input.Concurrent ?? input.Concurrency;
    if (concurrent === undefined) {
      throw new ApiError('MissingParameter', 'The request is missing a required parameter: one of `Concurrent` or `Concurrency` must be set.');
    }
    const ipVersion = parseIpVersion(input.IPAddressVersion);
    parsePackageType(input.PackageType);
    if (!isAccessRegion(input.AccessRegion)) throw unknownAccessRegion('AccessRegion', input.AccessRegion);
    // RealServerRegion is the new name of DestRegion; the new one wins when both are sent.
    const destName = input.RealServerRegion !== undefined ? 'RealServerRegion' : 'DestRegion';
    const dest = input.RealServerRegion ?? input.DestRegion;
    if (dest !== undefined && !isDestRegion(dest)) throw unknownDestRegion(destName, dest);
    if (!BANDWIDTH_LIST.includes(input.Bandwidth)) {
      throw new ApiError('InvalidParameterValue.InvalidBandwidth', `The value of parameter \`Bandwidth\` is not valid: ${input.Bandwidth} is not one of ${BANDWIDTH_LIST.join(', ')} Mbps.`);
    }
    const concName = input.Concurrent !== undefined ? 'Concurrent' : 'Concurrency';
    if (!CONCURRENT_LIST.includes(concurrent)) {
      throw new ApiError('InvalidParameterValue.InvalidConcurrency', `The value of parameter \`${concName}\` is not valid: ${concurrent} is not one of ${CONCURRENT_LIST.join(', ')} (×10,000 connections).`);
    }
    const billingType = input.BillingType ?? 0;
    if (billingType !== 0 && billingType !== 1) throw invalidParameterValue('BillingType', 'expected 0 (bandwidth) or 1 (traffic)');
    const access = findRegion(input.AccessRegion)!;
    const networkType = input.NetworkType === undefined || input.NetworkType === '' ? 'normal' : input.NetworkType;
    if (networkType !== 'normal' && networkType !== 'cn2') throw invalidParameterValue('NetworkType', `\`${networkType}\` is not one of normal, cn2`);
    if (!networkTypesOf(access).includes(networkType)) {
      throw invalidParameterValue('NetworkType', `the access region \`${access.RegionId}\` does not offer \`${networkType}\``);
    }
    if (ipVersion === 'IPv6' && (access.FeatureBitmap & FEATURE.ipv6) === 0) {
      throw invalidParameterValue('IPAddressVersion', `the access region \`${access.RegionId}\` does not offer IPv6 proxies`);
    }
    return quoteProxy({ bandwidth: input.Bandwidth, concurrent, billingType, networkType });
  },

  DescribeBlackHeader: async () => ({ BlackHeaders: [...BLACK_HEADERS] }),
} satisfies HandlerPart<GaapActions>;

export const transitions: Record<string, TransitionHandler> = {};
