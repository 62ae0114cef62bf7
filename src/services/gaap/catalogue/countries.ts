/**
 * Country / area codes used by global-domain DNS records
 * (NationCountryInnerCodes) and returned by DescribeCountryAreaMapping.
 *
 * Code layout, as the API document's examples show it: a continent is
 * `C00000`, a geographical zone inside it `CZ000`, a country or area inside
 * the zone `CZ0NN`. The codes the document shows are kept exactly: Asia
 * 100000, East Asia 101000, mainland China North/East/South/West
 * 101001-101004, Korea 101007, Oceania 400000 / zone 401000, Australia
 * 401000, New Zealand 401001, Fiji 401012. The other entries follow the same
 * layout.
 */

import type { CountryAreaMap } from '../../../spec/gaap.types';
import type { Language } from '../../types';

interface Named {
  zh: string;
  en: string;
}

const CONTINENTS: Record<string, Named> = {
  '100000': { zh: '亚洲', en: 'Asia' },
  '200000': { zh: '欧洲', en: 'Europe' },
  '300000': { zh: '北美洲', en: 'North America' },
  '400000': { zh: '大洋洲', en: 'Oceania' },
  '500000': { zh: '南美洲', en: 'South America' },
  '600000': { zh: '非洲', en: 'Africa' },
};

const ZONES: Record<string, Named> = {
  '101000': { zh: '东亚', en: 'East Asia' },
  '102000': { zh: '东南亚', en: 'Southeast Asia' },
  '103000': { zh: '南亚', en: 'South Asia' },
  '104000': { zh: '西亚', en: 'West Asia' },
  '105000': { zh: '中亚', en: 'Central Asia' },
  '201000': { zh: '西欧', en: 'Western Europe' },
  '202000': { zh: '北欧', en: 'Northern Europe' },
  '203000': { zh: '南欧', en: 'Southern Europe' },
  '204000': { zh: '东欧', en: 'Eastern Europe' },
  '301000': { zh: '北美', en: 'Northern America' },
  '401000': { zh: '大洋洲', en: 'Oceania' },
  '501000': { zh: '南美', en: 'South America' },
  '601000': { zh: '北非', en: 'North Africa' },
  '602000': { zh: '西非', en: 'West Africa' },
  '603000': { zh: '东非', en: 'East Africa' },
  '604000': { zh: '南部非洲', en: 'Southern Africa' },
};

/** [code, zone code, Chinese name, English name] */
const COUNTRIES: ReadonlyArray<[string, string, string, string]> = [
  ['101001', '101000', '中国大陆-华北', 'North China'],
  ['101002', '101000', '中国大陆-华东', 'East China'],
  ['101003', '101000', '中国大陆-华南', 'South China'],
  ['101004', '101000', '中国大陆-华西', 'West China'],
  ['101005', '101000', '中国香港', 'Hong Kong, China'],
  ['101006', '101000', '中国台湾', 'Taiwan, China'],
  ['101007', '101000', '韩国', 'Korea'],
  ['101008', '101000', '日本', 'Japan'],
  ['101009', '101000', '中国澳门', 'Macao, China'],
  ['101010', '101000', '蒙古', 'Mongolia'],
  ['102001', '102000', '新加坡', 'Singapore'],
  ['102002', '102000', '泰国', 'Thailand'],
  ['102003', '102000', '印度尼西亚', 'Indonesia'],
  ['102004', '102000', '马来西亚', 'Malaysia'],
  ['102005', '102000', '越南', 'Vietnam'],
  ['102006', '102000', '菲律宾', 'Philippines'],
  ['102007', '102000', '柬埔寨', 'Cambodia'],
  ['102008', '102000', '缅甸', 'Myanmar'],
  ['103001', '103000', '印度', 'India'],
  ['103002', '103000', '巴基斯坦', 'Pakistan'],
  ['103003', '103000', '孟加拉国', 'Bangladesh'],
  ['103004', '103000', '斯里兰卡', 'Sri Lanka'],
  ['103005', '103000', '尼泊尔', 'Nepal'],
  ['104001', '104000', '阿联酋', 'United Arab Emirates'],
  ['104002', '104000', '沙特阿拉伯', 'Saudi Arabia'],
  ['104003', '104000', '土耳其', 'Turkey'],
  ['104004', '104000', '以色列', 'Israel'],
  ['104005', '104000', '卡塔尔', 'Qatar'],
  ['105001', '105000', '哈萨克斯坦', 'Kazakhstan'],
  ['105002', '105000', '乌兹别克斯坦', 'Uzbekistan'],
  ['201001', '201000', '英国', 'United Kingdom'],
  ['201002', '201000', '法国', 'France'],
  ['201003', '201000', '德国', 'Germany'],
  ['201004', '201000', '荷兰', 'Netherlands'],
  ['201005', '201000', '比利时', 'Belgium'],
  ['201006', '201000', '爱尔兰', 'Ireland'],
  ['201007', '201000', '瑞士', 'Switzerland'],
  ['202001', '202000', '挪威', 'Norway'],
  ['202002', '202000', '瑞典', 'Sweden'],
  ['202003', '202000', '芬兰', 'Finland'],
  ['202004', '202000', '丹麦', 'Denmark'],
  ['203001', '203000', '意大利', 'Italy'],
  ['203002', '203000', '西班牙', 'Spain'],
  ['203003', '203000', '葡萄牙', 'Portugal'],
  ['203004', '203000', '希腊', 'Greece'],
  ['204001', '204000', '俄罗斯', 'Russia'],
  ['204002', '204000', '波兰', 'Poland'],
  ['204003', '204000', '乌克兰', 'Ukraine'],
  ['204004', '204000', '捷克', 'Czech Republic'],
  ['301001', '301000', '美国', 'United States'],
  ['301002', '301000', '加拿大', 'Canada'],
  ['301003', '301000', '墨西哥', 'Mexico'],
  ['401000', '401000', '澳大利亚', 'Australia'],
  ['401001', '401000', '新西兰', 'New Zealand'],
  ['401002', '401000', '巴布亚新几内亚', 'Papua New Guinea'],
  ['401012', '401000', '斐济', 'Fiji Islands'],
  ['501001', '501000', '巴西', 'Brazil'],
  ['501002', '501000', '阿根廷', 'Argentina'],
  ['501003', '501000', '智利', 'Chile'],
  ['501004', '501000', '哥伦比亚', 'Colombia'],
  ['501005', '501000', '秘鲁', 'Peru'],
  ['601001', '601000', '埃及', 'Egypt'],
  ['601002', '601000', '摩洛哥', 'Morocco'],
  ['602001', '602000', '尼日利亚', 'Nigeria'],
  ['603001', '603000', '肯尼亚', 'Kenya'],
  ['604001', '604000', '南非', 'South Africa'],
];

const continentOf = (zone: string): string => `${zone[0]}00000`;

const BY_CODE = new Map(COUNTRIES.map((c) => [c[0], c]));

export const isCountryCode = (code: string): boolean => BY_CODE.has(code);

/** A CountryAreaMap from its codes (empty ones name nothing), names in the caller's language (Chinese unless en-US). */
function areaMap(code: string, country: Named | undefined, zone: string, continent: string, language: Language): CountryAreaMap {
  const pick = (n: Named | undefined) => (n ? (language === 'en-US' ? n.en : n.zh) : '');
  return {
    NationCountryName: pick(country),
    NationCountryInnerCode: code,
    GeographicalZoneName: pick(ZONES[zone]),
    GeographicalZoneInnerCode: zone,
    ContinentName: pick(CONTINENTS[continent]),
    ContinentInnerCode: continent,
    // Every example of the document carries Remark "1"; its meaning is not documented.
    Remark: '1',
  };
}

/** One CountryAreaMap of a country code the mapping lists. */
export function countryAreaMap(code: string, language: Language): CountryAreaMap | undefined {
  const c = BY_CODE.get(code);
  if (!c) return undefined;
  const [, zone, zh, en] = c;
  return areaMap(code, { zh, en }, zone, continentOf(zone), language);
}

/**
 * How a DNS record shows one of its codes. Records take country codes, and
 * also the zone and continent codes of the mapping (the document's own
 * ModifyGlobalDomainDns example gives the continent code "100000"); a code
 * the mapping does not know at all (the CreateGlobalDomainDns example's
 * "1000000") is kept and shown with empty names.
 */
export function recordArea(code: string, language: Language): CountryAreaMap {
  const country = countryAreaMap(code, language);
  if (country) return country;
  const zone = ZONES[code] ? code : '';
  const continent = CONTINENTS[code] ? code : zone ? continentOf(zone) : '';
  return areaMap(code, undefined, zone, continent, language);
}

export function countryAreaMappingList(language: Language): CountryAreaMap[] {
  return COUNTRIES.map((c) => countryAreaMap(c[0], language)!);
}
