/**
 * Views of the shared region table (regions.ts) that the catalogue actions
 * need: filtering by IP version and package type, derived only from the
 * table's own FeatureBitmap and mainland flags, so every action agrees.
 */
import { ApiError, invalidParameterValue } from '../../../core/errors';
import { accessRegions, accessRegionsFor, BANDWIDTH_LIST, CONCURRENT_LIST, destRegions, findRegion, regionDetail, type Region } from './model';

/** FeatureBitmap bits, right to left, as the API document lists them. */
export const FEATURE = {
  layer4: 1,
  layer7: 2,
  http3: 4,
  ipv6: 8,
  cn2: 16,
  triple: 32,
  qos: 64,
} as const;

export type IpVersion = 'IPv4' | 'IPv6';
export type PackageType = 'Thunder' | 'Accelerator' | 'CrossBorder';

/** IPAddressVersion: IPv4 (default) or IPv6; the document's examples also write `IPV4`. */
export function parseIpVersion(v: string | undefined): IpVersion {
  if (v === undefined || v === '') return 'IPv4';
  const lower = v.toLowerCase();
  if (lower === 'ipv4') return 'IPv4';
  if (lower === 'ipv6') return 'IPv6';
  throw invalidParameterValue('IPAddressVersion', `\`${v}\` is not one of IPv4, IPv6`);
}

export function parsePackageType(v: string | undefined): PackageType {
  if (v === undefined || v === '') return 'Thunder';
  if (v === 'Thunder' || v === 'Accelerator' || v === 'CrossBorder') return v;
  throw invalidParameterValue('PackageType', `\`${v}\` is not one of Thunder, Accelerator, CrossBorder`);
}

export interface RegionFilter {
  ipVersion: IpVersion;
  packageType: PackageType;
}

/** Can proxies of this kind be accessed from `r`? IPv6 needs the IPv6 bit; cross-border proxies start in the mainland. */
export function accessRegionMatches(r: Region, f: RegionFilter): boolean {
  if (f.ipVersion === 'IPv6' && (r.FeatureBitmap & FEATURE.ipv6) === 0) return false;
  if (f.packageType === 'CrossBorder' && !r.mainland) return false;
  return true;
}

/** Access regions able to reach `dest` with proxies of this kind. */
export function accessRegionsMatching(dest: string, f: RegionFilter): Region[] {
  const d = findRegion(dest);
  if (!d) return [];
  if (f.packageType === 'CrossBorder' && d.mainland) return [];
  return accessRegionsFor(dest).filter((a) => accessRegionMatches(a, f));
}

/** Destination regions that at least one matching access region can reach. */
export function destRegionsMatching(f: RegionFilter): Region[] {
  const plain = f.ipVersion === 'IPv4' && f.packageType !== 'CrossBorder';
  return destRegions().filter((d) => plain || accessRegionsMatching(d.RegionId, f).length > 0);
}

/** AccessRegionDetial (sic), the shape DescribeAccessRegionsByDestRegion returns. */
export function accessRegionDetail(r: Region): Record<string, unknown> {
  return {
    RegionId: r.RegionId,
    RegionName: r.RegionName,
    ConcurrentList: [...CONCURRENT_LIST],
    BandwidthList: [...BANDWIDTH_LIST],
    RegionArea: r.RegionArea,
    RegionAreaName: r.RegionAreaName,
    IDCType: r.IDCType,
    FeatureBitmap: r.FeatureBitmap,
  };
}

/** Network types an access region offers, as its RegionDetail.SupportFeature says. */
export function networkTypesOf(r: Region): string[] {
  return regionDetail(r).SupportFeature?.NetworkType ?? ['normal'];
}

export const unknownAccessRegion = (name: string, v: string) =>
  new ApiError('InvalidParameterValue.UnknownAccessRegion', `The value of parameter \`${name}\` is not valid: the access region \`${v}\` does not exist.`);

export const unknownDestRegion = (name: string, v: string) =>
  new ApiError('InvalidParameterValue.UnknownDestRegion', `The value of parameter \`${name}\` is not valid: the destination region \`${v}\` does not exist.`);

export { accessRegions };
