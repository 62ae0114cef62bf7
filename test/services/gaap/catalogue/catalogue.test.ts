import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { BANDWIDTH_LIST, BANDWIDTH_PRICE_BANDS, CONCURRENT_LIST, REGIONS } from '../../../../src/services/gaap/catalogue/model';
import { ACCOUNT_A, cnClient, errorCode, intlClient, startTclocal } from '../../../helpers';
import { assertResponseShape } from '../../../support/response-shape';

type Server = Awaited<ReturnType<typeof startTclocal>>;

describe('gaap catalogue', () => {
  let server: Server;
  let c: any;
  before(async () => {
    server = await startTclocal({ rateLimits: false });
    c = cnClient('gaap', server);
  });
  after(async () => {
    await server.stop();
  });

  it('DescribeAccessRegions lists the access regions of the region table', async () => {
    const r = await c.DescribeAccessRegions({});
    assertResponseShape('gaap', 'DescribeAccessRegions', r);
    const expected = REGIONS.filter((x) => x.access).map((x) => x.RegionId);
    assert.equal(r.TotalCount, expected.length);
    assert.deepEqual(r.AccessRegionSet.map((x: any) => x.RegionId), expected);
    const hk = r.AccessRegionSet.find((x: any) => x.RegionId === 'Hongkong');
    assert.equal(hk.RegionName, '中国香港');
    assert.equal(hk.FeatureBitmap, 151);
    assert.equal(hk.IDCType, 'dc');
    assert.ok(!r.AccessRegionSet.some((x: any) => x.RegionId.startsWith('SL_AZURE')));
  });

  it('DescribeDestRegions lists every region; QualityType must be 0 or 1', async () => {
    const r = await c.DescribeDestRegions({});
    assertResponseShape('gaap', 'DescribeDestRegions', r);
    assert.equal(r.TotalCount, REGIONS.length);
    assert.equal(r.DestRegionSet.length, REGIONS.length);
    assert.ok(r.DestRegionSet.some((x: any) => x.RegionId === 'SL_AZURE_EastUS'));
    const silver = await c.DescribeDestRegions({ QualityType: 1 });
    assertResponseShape('gaap', 'DescribeDestRegions', silver);
    assert.equal(silver.TotalCount, r.TotalCount);
    const e = await c.DescribeDestRegions({ QualityType: 5 }).catch((x: any) => x);
    assert.equal(e.code, 'InvalidParameterValue');
    assert.match(e.message, /QualityType/);
  });

  it('DescribeAccessRegionsByDestRegion gives the capacities per access region', async () => {
    const r = await c.DescribeAccessRegionsByDestRegion({ DestRegion: 'Hongkong' });
    assertResponseShape('gaap', 'DescribeAccessRegionsByDestRegion', r);
    assert.ok(r.TotalCount > 0);
    assert.equal(r.TotalCount, r.AccessRegionSet.length);
    const ids = r.AccessRegionSet.map((x: any) => x.RegionId);
    assert.ok(!ids.includes('Hongkong'), 'a region does not accelerate to itself');
    const cq = r.AccessRegionSet.find((x: any) => x.RegionId === 'Chongqing');
    assert.deepEqual(cq.BandwidthList, [...BANDWIDTH_LIST]);
    assert.deepEqual(cq.ConcurrentList, [...CONCURRENT_LIST]);
    assert.equal(cq.FeatureBitmap, 71);
    // Mainland to mainland is offered (CreateProxy accepts such pairs); a region never accelerates to itself.
    const bj = await c.DescribeAccessRegionsByDestRegion({ DestRegion: 'Beijing' });
    assert.ok(bj.AccessRegionSet.some((x: any) => x.RegionId === 'Shanghai'));
    assert.ok(!bj.AccessRegionSet.some((x: any) => x.RegionId === 'Beijing'));
    assert.ok(bj.AccessRegionSet.some((x: any) => x.RegionId === 'Hongkong'));
  });

  it('DescribeAccessRegionsByDestRegion filters by IP version and package type', async () => {
    const v6 = await c.DescribeAccessRegionsByDestRegion({ DestRegion: 'Hongkong', IPAddressVersion: 'IPv6' });
    assertResponseShape('gaap', 'DescribeAccessRegionsByDestRegion', v6);
    assert.ok(v6.TotalCount > 0);
    for (const x of v6.AccessRegionSet) assert.ok((x.FeatureBitmap & 8) !== 0, `${x.RegionId} supports IPv6`);
    const cross = await c.DescribeAccessRegionsByDestRegion({ DestRegion: 'Europe', PackageType: 'CrossBorder' });
    assert.ok(cross.TotalCount > 0);
    const mainland = new Set(REGIONS.filter((x) => x.mainland).map((x) => x.RegionId));
    for (const x of cross.AccessRegionSet) assert.ok(mainland.has(x.RegionId));
    const none = await c.DescribeAccessRegionsByDestRegion({ DestRegion: 'Beijing', PackageType: 'CrossBorder' });
    assert.equal(none.TotalCount, 0);
    assert.deepEqual(none.AccessRegionSet, []);
  });

  it('DescribeAccessRegionsByDestRegion rejects unknown regions and enums', async () => {
    const e = await c.DescribeAccessRegionsByDestRegion({ DestRegion: 'Atlantis' }).catch((x: any) => x);
    assert.equal(e.code, 'InvalidParameterValue.UnknownDestRegion');
    assert.match(e.message, /Atlantis/);
    assert.equal(await errorCode(c.DescribeAccessRegionsByDestRegion({ DestRegion: 'Hongkong', IPAddressVersion: 'IPv5' })), 'InvalidParameterValue');
    assert.equal(await errorCode(c.DescribeAccessRegionsByDestRegion({ DestRegion: 'Hongkong', PackageType: 'Gold' })), 'InvalidParameterValue');
    assert.equal(await errorCode(c.DescribeAccessRegionsByDestRegion({})), 'MissingParameter');
  });

  it('DescribeCountryAreaMapping returns the code table, in the caller language', async () => {
    const zh = await c.DescribeCountryAreaMapping({});
    assertResponseShape('gaap', 'DescribeCountryAreaMapping', zh);
    assert.ok(zh.CountryAreaMappingList.length >= 30);
    const korea = zh.CountryAreaMappingList.find((x: any) => x.NationCountryInnerCode === '101007');
    assert.deepEqual(korea, {
      NationCountryName: '韩国', NationCountryInnerCode: '101007', GeographicalZoneName: '东亚', GeographicalZoneInnerCode: '101000',
      ContinentName: '亚洲', ContinentInnerCode: '100000', Remark: '1',
    });
    const codes = zh.CountryAreaMappingList.map((x: any) => x.NationCountryInnerCode);
    assert.equal(new Set(codes).size, codes.length, 'codes are unique');
    for (const x of zh.CountryAreaMappingList) {
      assert.match(x.NationCountryInnerCode, /^\d{6}$/);
      assert.equal(x.ContinentInnerCode, `${x.GeographicalZoneInnerCode[0]}00000`);
      assert.equal(x.NationCountryInnerCode.slice(0, 3), x.GeographicalZoneInnerCode.slice(0, 3));
    }
    const en = await cnClient('gaap', server, { language: 'en-US' }).DescribeCountryAreaMapping({});
    assertResponseShape('gaap', 'DescribeCountryAreaMapping', en);
    const fiji = en.CountryAreaMappingList.find((x: any) => x.NationCountryInnerCode === '401012');
    assert.equal(fiji.NationCountryName, 'Fiji Islands');
    assert.equal(fiji.GeographicalZoneInnerCode, '401000');
    assert.equal(fiji.ContinentName, 'Oceania');
    assert.equal(fiji.ContinentInnerCode, '400000');
  });

  it('DescribeRegionAndPrice gives the destination regions, price bands and currency', async () => {
    const r = await c.DescribeRegionAndPrice({});
    assertResponseShape('gaap', 'DescribeRegionAndPrice', r);
    assert.equal(r.TotalCount, REGIONS.length);
    assert.equal(r.Currency, 'CNY');
    assert.deepEqual(r.BandwidthUnitPrice.map((b: any) => [b.BandwidthRange, b.BandwidthUnitPrice]), BANDWIDTH_PRICE_BANDS.map((b) => [b.range, b.price]));
    const v6 = await c.DescribeRegionAndPrice({ IPAddressVersion: 'IPv6' });
    assertResponseShape('gaap', 'DescribeRegionAndPrice', v6);
    assert.ok(v6.TotalCount > 0 && v6.TotalCount <= r.TotalCount);
    // Every listed destination has at least one IPv6 access region reaching it.
    for (const d of v6.DestRegionSet) {
      const acc = await c.DescribeAccessRegionsByDestRegion({ DestRegion: d.RegionId, IPAddressVersion: 'IPv6' });
      assert.ok(acc.TotalCount > 0, d.RegionId);
    }
  });

  it('InquiryPriceCreateProxy quotes the documented example', async () => {
    const r = await c.InquiryPriceCreateProxy({ Concurrent: 2, Bandwidth: 10, RealServerRegion: 'Hongkong', AccessRegion: 'Guangzhou', IPAddressVersion: 'IPv4', NetworkType: 'normal' });
    assertResponseShape('gaap', 'InquiryPriceCreateProxy', r);
    assert.equal(r.ProxyDailyPrice, 80.64);
    assert.equal(r.DiscountProxyDailyPrice, 80.64);
    assert.equal(r.Currency, 'CNY');
    assert.equal(r.FlowUnitPrice, null);
    assert.equal(r.Cn2BandwidthPrice, 0);
    assert.equal(r.BandwidthUnitPrice.length, BANDWIDTH_PRICE_BANDS.length);
    assert.deepEqual(r.BandwidthUnitPrice[4], { BandwidthRange: [2000, -1], BandwidthUnitPrice: 50, DiscountBandwidthUnitPrice: 50 });
    // The base fee scales with concurrency; the old parameter names still work.
    const old = await c.InquiryPriceCreateProxy({ Concurrency: 10, Bandwidth: 100, DestRegion: 'Beijing', AccessRegion: 'Hongkong' });
    assertResponseShape('gaap', 'InquiryPriceCreateProxy', old);
    assert.equal(old.ProxyDailyPrice, 403.2);
    // Traffic billing quotes a per-GB price; premium BGP a per-Mbps price.
    const flow = await c.InquiryPriceCreateProxy({ Concurrent: 2, Bandwidth: 10, AccessRegion: 'Hongkong', RealServerRegion: 'Beijing', BillingType: 1, NetworkType: 'cn2' });
    assertResponseShape('gaap', 'InquiryPriceCreateProxy', flow);
    assert.ok(flow.FlowUnitPrice > 0);
    assert.equal(flow.Cn2BandwidthPrice, 130);
  });

  it('InquiryPriceCreateProxy validates its parameters', async () => {
    const base = { Concurrent: 2, Bandwidth: 10, RealServerRegion: 'Beijing', AccessRegion: 'Hongkong' };
    let e = await c.InquiryPriceCreateProxy({ ...base, Concurrent: undefined }).catch((x: any) => x);
    assert.equal(e.code, 'MissingParameter');
    assert.match(e.message, /Concurrent/);
    assert.match(e.message, /Concurrency/);
    e = await c.InquiryPriceCreateProxy({ ...base, AccessRegion: 'Mars' }).catch((x: any) => x);
    assert.equal(e.code, 'InvalidParameterValue.UnknownAccessRegion');
    assert.match(e.message, /AccessRegion/);
    assert.equal(await errorCode(c.InquiryPriceCreateProxy({ ...base, AccessRegion: 'SL_AZURE_EastUS' })), 'InvalidParameterValue.UnknownAccessRegion');
    e = await c.InquiryPriceCreateProxy({ ...base, RealServerRegion: 'Mars' }).catch((x: any) => x);
    assert.equal(e.code, 'InvalidParameterValue.UnknownDestRegion');
    assert.match(e.message, /RealServerRegion/);
    e = await c.InquiryPriceCreateProxy({ ...base, RealServerRegion: undefined, DestRegion: 'Mars' }).catch((x: any) => x);
    assert.equal(e.code, 'InvalidParameterValue.UnknownDestRegion');
    assert.match(e.message, /DestRegion/);
    assert.equal(await errorCode(c.InquiryPriceCreateProxy({ ...base, Bandwidth: 15 })), 'InvalidParameterValue.InvalidBandwidth');
    assert.equal(await errorCode(c.InquiryPriceCreateProxy({ ...base, Concurrent: 3 })), 'InvalidParameterValue.InvalidConcurrency');
    assert.equal(await errorCode(c.InquiryPriceCreateProxy({ ...base, BillingType: 2 })), 'InvalidParameterValue');
    assert.equal(await errorCode(c.InquiryPriceCreateProxy({ ...base, NetworkType: 'gold' })), 'InvalidParameterValue');
    // Hongkong has no IPv6 bit in its FeatureBitmap.
    assert.equal(await errorCode(c.InquiryPriceCreateProxy({ ...base, IPAddressVersion: 'IPv6' })), 'InvalidParameterValue');
    assert.equal(await errorCode(c.InquiryPriceCreateProxy({ Concurrent: 2, RealServerRegion: 'Beijing', AccessRegion: 'Hongkong' })), 'MissingParameter');
  });

  it('DescribeBlackHeader lists the forbidden headers, in TC3, v1 form and the intl SDK', async () => {
    const r = await c.DescribeBlackHeader({});
    assertResponseShape('gaap', 'DescribeBlackHeader', r);
    assert.ok(r.BlackHeaders.includes('X-Forward-For'));
    assert.ok(r.BlackHeaders.includes('allow'));
    const v1 = await cnClient('gaap', server, { account: ACCOUNT_A, signMethod: 'HmacSHA256', reqMethod: 'GET' }).DescribeBlackHeader({});
    assertResponseShape('gaap', 'DescribeBlackHeader', v1);
    assert.deepEqual(v1.BlackHeaders, r.BlackHeaders);
    const intl = await intlClient('gaap', server, { account: ACCOUNT_A }).DescribeBlackHeader({});
    assert.deepEqual(intl.BlackHeaders, r.BlackHeaders);
    const price = await intlClient('gaap', server).InquiryPriceCreateProxy({ AccessRegion: 'Hongkong', RealServerRegion: 'Beijing', Bandwidth: 20, Concurrent: 5 });
    assertResponseShape('gaap', 'InquiryPriceCreateProxy', price);
    assert.equal(price.ProxyDailyPrice, 201.6);
  });
});
