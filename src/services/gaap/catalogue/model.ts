/**
 * The one region and price table behind every GAAP catalogue action and
 * every check of AccessRegion / RealServerRegion / Bandwidth / Concurrent.
 * Region IDs, names, areas and feature bitmaps are the ones the API document
 * lists (DescribeRegionAndPrice example), plus the area-level IDs its other
 * examples use (NorthChina, ...); capacities come from its
 * DescribeAccessRegionsByDestRegion example.
 */
import type { RegionDetail } from '../../../spec/gaap.types';

/** A catalogue region: the API's RegionDetail (features given by the bitmap) plus where it is offered. */
export interface Region extends Omit<RegionDetail, 'IDCType' | 'SupportFeature'> {
  IDCType: 'dc' | 'ec';
  /** Offered as an access (client-side) region. */
  access: boolean;
  /** Mainland China: proxies between two mainland regions are not offered. */
  mainland: boolean;
}

const r = (RegionId: string, RegionName: string, RegionArea: string, RegionAreaName: string, FeatureBitmap: number, access: boolean, mainland = false): Region => ({
  RegionId, RegionName, RegionArea, RegionAreaName, IDCType: 'dc', FeatureBitmap, access, mainland,
});

export const REGIONS: readonly Region[] = [
  r('Hongkong', '中国香港', 'Asia', '亚洲', 151, true),
  r('SoutheastAsia', '新加坡', 'Asia', '亚洲', 135, true),
  r('Korea', '韩国首尔', 'Asia', '亚洲', 135, true),
  r('Europe', '德国法兰克福', 'Europe', '欧洲', 135, true),
  r('NorthAmerica', '美国西部硅谷', 'NorthAmerica', '北美洲', 135, true),
  r('WestIndia', '印度西部孟买', 'Asia', '亚洲', 135, true),
  r('Thailand', '泰国曼谷', 'Asia', '亚洲', 135, true),
  r('Virginia', '美国东部弗吉尼亚', 'NorthAmerica', '北美洲', 135, true),
  r('Japan', '日本东京', 'Asia', '亚洲', 135, true),
  r('Taipei', '中国台北', 'Asia', '亚洲', 135, true),
  r('Jakarta', '印尼雅加达', 'Asia', '亚洲', 135, true),
  r('SaoPaulo', '巴西', 'SouthAmerica', '南美洲', 135, true),
  r('Beijing', '北京（原中国大陆-华北大区）', 'NorthChina', '中国大陆-华北', 79, true, true),
  r('Shanghai', '上海（原中国大陆-华东大区）', 'EastChina', '中国大陆-华东', 79, true, true),
  r('Guangzhou', '广州（原中国大陆-华南大区）', 'SouthChina', '中国大陆-华南', 79, true, true),
  r('Chengdu', '成都（原中国大陆-西南地区）', 'SouthwestChina', '中国大陆-西南', 79, true, true),
  r('Chongqing', '重庆', 'SouthwestChina', '中国大陆-西南', 71, true, true),
  r('Nanjing', '南京', 'EastChina', '中国大陆-华东', 71, true, true),
  // Area-level IDs of older proxies; the document's own examples (and Terraform's) still use them.
  r('NorthChina', '中国大陆-华北', 'NorthChina', '中国大陆-华北', 79, true, true),
  r('EastChina', '中国大陆-华东', 'EastChina', '中国大陆-华东', 79, true, true),
  r('SouthChina', '中国大陆-华南', 'SouthChina', '中国大陆-华南', 79, true, true),
  r('SouthwestChina', '中国大陆-西南', 'SouthwestChina', '中国大陆-西南', 79, true, true),
  r('SL_AZURE_NorthUAE', '阿联酋迪拜(合作节点)', 'Asia', '亚洲', 7, false),
  r('SL_AZURE_EastAUS', '澳大利亚东部悉尼(合作节点)', 'Oceania', '大洋洲', 7, false),
  r('SL_AZURE_NorthCentralUSA', '美国中北部伊利诺斯(合作节点)', 'NorthAmerica', '北美洲', 7, false),
  r('SL_AZURE_SouthIndia', '印度南部金奈(合作节点)', 'Asia', '亚洲', 7, false),
  r('SL_AZURE_SouthBrazil', '巴西南部圣保罗(合作节点)', 'SouthAmerica', '南美洲', 7, false),
  r('SL_AZURE_NorthZAF', '南非北部约翰内斯堡(合作节点)', 'Africa', '非洲', 7, false),
  r('SL_AZURE_SoutheastAsia', '新加坡（合作节点）', 'Asia', '亚洲', 7, false),
  r('SL_AZURE_CentralFrance', '法国中部巴黎(合作节点)', 'Europe', '欧洲', 7, false),
  r('SL_AZURE_SouthEngland', '英国南部伦敦(合作节点)', 'Europe', '欧洲', 7, false),
  r('SL_AZURE_EastUS', '美国东部弗吉尼亚(合作节点)', 'NorthAmerica', '北美洲', 7, false),
  r('SL_AZURE_WestUS', '美国西部加利福尼亚(合作节点)', 'NorthAmerica', '北美洲', 7, false),
  r('SL_AZURE_SouthCentralUSA', '美国南部德克萨斯(合作节点)', 'NorthAmerica', '北美洲', 7, false),
  r('SL_AZURE_NorwayEast', '挪威东部奥斯陆(合作节点)', 'Europe', '欧洲', 7, false),
  r('SL_AZURE_JapanEast', '日本东部埼玉县(合作节点)', 'Asia', '亚洲', 3, false),
];

const BY_ID = new Map(REGIONS.map((x) => [x.RegionId, x]));

/** Bandwidth (Mbps) and concurrency (×10,000) a proxy may be created or scaled to. */
export const BANDWIDTH_LIST: readonly number[] = [10, 20, 50, 100, 200, 500, 1000];
export const CONCURRENT_LIST: readonly number[] = [2, 5, 10, 20, 30];

export const findRegion = (id: string): Region | undefined => BY_ID.get(id);
export const isDestRegion = (id: string): boolean => BY_ID.has(id);
export const isAccessRegion = (id: string): boolean => BY_ID.get(id)?.access === true;
export const destRegions = (): readonly Region[] => REGIONS;
export const accessRegions = (): Region[] => REGIONS.filter((x) => x.access);

/**
 * Access regions that can accelerate traffic to `dest`: every one but itself.
 * Pairs inside mainland China are offered too: the document's own price
 * example quotes Guangzhou → Shanghai, and Terraform's tests create
 * Beijing → Guangzhou proxies.
 */
export function accessRegionsFor(dest: string): Region[] {
  if (!BY_ID.has(dest)) return [];
  return accessRegions().filter((a) => a.RegionId !== dest);
}

/** Per-Mbps daily price bands: [from, to (-1 unbounded)] → unit price. */
export const BANDWIDTH_PRICE_BANDS: ReadonlyArray<{ range: [number, number]; price: number }> = [
  { range: [0, 20], price: 130 },
  { range: [20, 100], price: 90 },
  { range: [100, 500], price: 70 },
  { range: [500, 2000], price: 60 },
  { range: [2000, -1], price: 50 },
];

/** FeatureBitmap bit 5 (from the right, 1-based): premium BGP, sold as the `cn2` network type. */
export const FEATURE_PREMIUM_BGP = 1 << 4;

/** RegionDetail as the Describe*Regions actions return it. */
export function regionDetail(x: Region): RegionDetail {
  return {
    RegionId: x.RegionId,
    RegionName: x.RegionName,
    RegionArea: x.RegionArea,
    RegionAreaName: x.RegionAreaName,
    IDCType: x.IDCType,
    FeatureBitmap: x.FeatureBitmap,
    SupportFeature: { NetworkType: x.FeatureBitmap & FEATURE_PREMIUM_BGP ? ['normal', 'cn2'] : ['normal'] },
  };
}

/** The catalogue's other tables, for the resources that check against them. */
export { countryAreaMap, isCountryCode, recordArea } from './countries';
export { BLACK_HEADERS } from './black-headers';
