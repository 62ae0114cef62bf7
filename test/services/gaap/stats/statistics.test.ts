import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { RunningServer } from '../../../../src/server';
import { KIND } from '../../../../src/services/gaap/kinds';
import { recordSample } from '../../../../src/services/gaap/stats/model';
import { ACCOUNT_A, ACCOUNT_B, errorCode, startWithTwoAccounts } from '../../../helpers';
import { assertResponseShape } from '../../../support/response-shape';
import { seed, seedGroup, seedListener, seedProxy } from '../catalogue/fixtures';

/** `YYYY-MM-DD HH:MM:SS` in Beijing time for a unix time in seconds. */
const bj = (sec: number): string => new Date((sec + 8 * 3600) * 1000).toISOString().slice(0, 19).replace('T', ' ');

describe('gaap statistics', () => {
  let server: RunningServer;
  let a: any;
  let b: any;
  before(async () => {
    ({ server, a, b } = await startWithTwoAccounts({ rateLimits: false }));
    await seedProxy(server, ACCOUNT_A, 'link-stat0001');
    await seedProxy(server, ACCOUNT_A, 'link-stat0002', { ProjectId: 5, GroupId: 'lg-stat0001' });
    await seedGroup(server, ACCOUNT_A, 'lg-stat0001', { ProjectId: 5 });
    await seedListener(server, ACCOUNT_A, 'listener-stat0001', { ProxyId: 'link-stat0001' }, { Port: 8080, Protocol: 'TCP' });
    await seedListener(server, ACCOUNT_A, 'listener-stat0002', { GroupId: 'lg-stat0001' }, { Port: 443, Protocol: 'HTTPS' });
    await seed(server, ACCOUNT_A, KIND.realServer, 'rs-stat0001', { RealServerId: 'rs-stat0001', RealServerIP: '10.0.0.1', RealServerName: 'rs', ProjectId: 0, TagSet: [] });
  });
  after(async () => {
    await server.stop();
  });

  it('DescribeListenerStatistics: one zero point per 300 s bucket of a one-day range, newest first', async () => {
    const r = await a.DescribeListenerStatistics({
      ListenerId: 'listener-stat0001', StartTime: '2019-03-25 12:00:00', EndTime: '2019-03-26 12:00:00', Granularity: 300, MetricNames: ['InputBandwidth', 'OutBandwidth'],
    });
    assertResponseShape('gaap', 'DescribeListenerStatistics', r);
    assert.deepEqual(r.StatisticsData.map((m: any) => m.MetricName), ['InputBandwidth', 'OutBandwidth']);
    const pts = r.StatisticsData[0].MetricData;
    assert.equal(pts.length, 289);
    // 2019-03-25 12:00:00 Beijing time = 04:00:00 UTC.
    assert.equal(pts[pts.length - 1].Time, Date.UTC(2019, 2, 25, 4) / 1000);
    assert.equal(pts[0].Time, Date.UTC(2019, 2, 26, 4) / 1000);
    for (let i = 1; i < pts.length; i++) assert.equal(pts[i - 1].Time - pts[i].Time, 300);
    assert.ok(pts.every((p: any) => p.Data === 0));
  });

  it('the granularity rules of each action are enforced', async () => {
    const day = { StartTime: '2024-01-01 00:00:00', EndTime: '2024-01-02 00:00:00', MetricNames: ['Concurrent'] };
    const week = { StartTime: '2024-01-01 00:00:00', EndTime: '2024-01-06 00:00:00', MetricNames: ['Concurrent'] };
    const month = { StartTime: '2024-01-01 00:00:00', EndTime: '2024-01-20 00:00:00', MetricNames: ['Concurrent'] };
    // Listener: 300/3600/86400 only; more than a day needs 3600.
    let e = await a.DescribeListenerStatistics({ ListenerId: 'listener-stat0001', ...day, Granularity: 60 }).catch((x: any) => x);
    assert.equal(e.code, 'InvalidParameterValue');
    assert.match(e.message, /Granularity/);
    assert.equal(await errorCode(a.DescribeListenerStatistics({ ListenerId: 'listener-stat0001', ...week, Granularity: 300 })), 'InvalidParameterValue');
    const lw = await a.DescribeListenerStatistics({ ListenerId: 'listener-stat0001', ...week, Granularity: 3600 });
    assert.equal(lw.StatisticsData[0].MetricData.length, 5 * 24 + 1);
    assert.equal(await errorCode(a.DescribeListenerStatistics({ ListenerId: 'listener-stat0001', ...month, Granularity: 3600 })), 'InvalidParameterValue');
    const lm = await a.DescribeListenerStatistics({ ListenerId: 'listener-stat0001', ...month, Granularity: 86400 });
    assertResponseShape('gaap', 'DescribeListenerStatistics', lm);
    // Day buckets start at Beijing midnight.
    for (const p of lm.StatisticsData[0].MetricData) assert.equal((p.Time + 8 * 3600) % 86400, 0);
    // Group: 60 s allowed within a day, a week needs 3600, over 30 days refused.
    const g = await a.DescribeProxyGroupStatistics({ GroupId: 'lg-stat0001', ...day, Granularity: 60 });
    assertResponseShape('gaap', 'DescribeProxyGroupStatistics', g);
    assert.equal(g.StatisticsData[0].MetricData.length, 1441);
    assert.equal(await errorCode(a.DescribeProxyGroupStatistics({ GroupId: 'lg-stat0001', ...week, Granularity: 300 })), 'InvalidParameterValue');
    assert.equal(await errorCode(a.DescribeProxyGroupStatistics({ GroupId: 'lg-stat0001', ...month, Granularity: 3600 })), 'InvalidParameterValue');
    e = await a.DescribeProxyGroupStatistics({ GroupId: 'lg-stat0001', StartTime: '2024-01-01 00:00:00', EndTime: '2024-03-01 00:00:00', MetricNames: ['Concurrent'], Granularity: 86400 }).catch((x: any) => x);
    assert.equal(e.code, 'InvalidParameterValue');
    assert.match(e.message, /30 days/);
    // Proxy: 60 s allowed up to 3 days; a week needs 300; a month 3600.
    const threeDays = { StartTime: '2024-01-01 00:00:00', EndTime: '2024-01-04 00:00:00', MetricNames: ['Latency'] };
    const p = await a.DescribeProxyStatistics({ ProxyId: 'link-stat0001', ...threeDays, Granularity: 60 });
    assertResponseShape('gaap', 'DescribeProxyStatistics', p);
    assert.equal(p.StatisticsData[0].MetricData.length, 3 * 1440 + 1);
    assert.equal(await errorCode(a.DescribeProxyStatistics({ ProxyId: 'link-stat0001', ...week, Granularity: 60 })), 'InvalidParameterValue');
    assert.ok(await a.DescribeProxyStatistics({ ProxyId: 'link-stat0001', ...week, Granularity: 300 }));
    assert.equal(await errorCode(a.DescribeProxyStatistics({ ProxyId: 'link-stat0001', ...month, Granularity: 300 })), 'InvalidParameterValue');
    assert.equal(await errorCode(a.DescribeProxyStatistics({ ProxyId: 'link-stat0001', ...day, Granularity: 120 })), 'InvalidParameterValue');
  });

  it('StartTime and EndTime are checked and named', async () => {
    const base = { ListenerId: 'listener-stat0001', MetricNames: ['InBandwidth'], Granularity: 300 };
    for (const [field, input] of [
      ['StartTime', { StartTime: '2024-01-01T00:00:00', EndTime: '2024-01-01 10:00:00' }],
      ['StartTime', { StartTime: '2024-02-30 00:00:00', EndTime: '2024-03-01 10:00:00' }],
      ['EndTime', { StartTime: '2024-01-01 00:00:00', EndTime: '2024-01-01 25:00:00' }],
      ['EndTime', { StartTime: '2024-01-02 00:00:00', EndTime: '2024-01-01 00:00:00' }],
    ] as const) {
      const e = await a.DescribeListenerStatistics({ ...base, ...input }).catch((x: any) => x);
      assert.equal(e.code, 'InvalidParameterValue', JSON.stringify(input));
      assert.match(e.message, new RegExp(field), e.message);
    }
  });

  it('MetricNames: both spellings, per-action sets, unknown names refused', async () => {
    const range = { StartTime: '2024-01-01 00:00:00', EndTime: '2024-01-01 01:00:00', Granularity: 300 };
    const r = await a.DescribeProxyStatistics({ ProxyId: 'link-stat0001', ...range, MetricNames: ['InBandwidth', 'OutputBandwidth', 'PacketLoss', 'HttpsQPSPercent', 'InBandwidth'] });
    assertResponseShape('gaap', 'DescribeProxyStatistics', r);
    assert.deepEqual(r.StatisticsData.map((m: any) => m.MetricName), ['InBandwidth', 'OutputBandwidth', 'PacketLoss', 'HttpsQPSPercent']);
    assert.equal(r.StatisticsData[0].MetricData.length, 13);
    let e = await a.DescribeListenerStatistics({ ListenerId: 'listener-stat0001', ...range, MetricNames: ['Latency'] }).catch((x: any) => x);
    assert.equal(e.code, 'InvalidParameterValue');
    assert.match(e.message, /MetricNames/);
    e = await a.DescribeProxyGroupStatistics({ GroupId: 'lg-stat0001', ...range, MetricNames: [] }).catch((x: any) => x);
    assert.equal(e.code, 'InvalidParameterValue');
    assert.equal(await errorCode(a.DescribeProxyStatistics({ ProxyId: 'link-stat0001', ...range, MetricNames: ['Bogus'] })), 'InvalidParameterValue');
    assert.equal(await errorCode(a.DescribeProxyStatistics({ ProxyId: 'link-stat0001', ...range, MetricNames: ['Concurrent'], Isp: 'ATT' })), 'InvalidParameterValue');
    assert.ok(await a.DescribeProxyStatistics({ ProxyId: 'link-stat0001', ...range, MetricNames: ['Concurrent'], Isp: 'CMCC' }));
    assert.equal(await errorCode(a.DescribeProxyStatistics({ ProxyId: 'link-stat0001', ...range })), 'MissingParameter');
  });

  it('the resource must exist, in the calling account', async () => {
    const q = { StartTime: '2024-01-01 00:00:00', EndTime: '2024-01-01 01:00:00', Granularity: 300, MetricNames: ['Concurrent'] };
    let e = await a.DescribeProxyStatistics({ ProxyId: 'link-nothere1', ...q }).catch((x: any) => x);
    assert.equal(e.code, 'ResourceNotFound');
    assert.match(e.message, /link-nothere1/);
    assert.equal(await errorCode(b.DescribeProxyStatistics({ ProxyId: 'link-stat0001', ...q })), 'ResourceNotFound');
    assert.equal(await errorCode(b.DescribeListenerStatistics({ ListenerId: 'listener-stat0001', ...q })), 'ResourceNotFound');
    e = await b.DescribeProxyGroupStatistics({ GroupId: 'lg-stat0001', ...q }).catch((x: any) => x);
    assert.equal(e.code, 'ResourceNotFound');
    assert.match(e.message, /lg-stat0001/);
  });

  it('recorded samples come back as per-bucket maxima; future buckets are null', async () => {
    const now = Math.floor(Date.now() / 1000);
    const hourStart = Math.floor(now / 3600) * 3600 - 2 * 3600;
    await server.store.transaction(ACCOUNT_A.uin, async (tx) => {
      await recordSample(tx, 'listener', 'listener-stat0001', 'InBandwidth', hourStart + 10, 4);
      await recordSample(tx, 'listener', 'listener-stat0001', 'InBandwidth', hourStart + 70, 9);
      await recordSample(tx, 'listener', 'listener-stat0001', 'InBandwidth', hourStart + 400, 2);
    });
    const r = await a.DescribeListenerStatistics({
      ListenerId: 'listener-stat0001', StartTime: bj(hourStart), EndTime: bj(hourStart + 3 * 3600 + 1800), Granularity: 300, MetricNames: ['InputBandwidth', 'Concurrent'],
    });
    assertResponseShape('gaap', 'DescribeListenerStatistics', r);
    const pts = new Map<number, number | null>(r.StatisticsData[0].MetricData.map((p: any) => [p.Time, p.Data]));
    assert.equal(pts.get(hourStart), 9);
    assert.equal(pts.get(hourStart + 300), 2);
    assert.equal(pts.get(hourStart + 600), 0);
    const last = r.StatisticsData[0].MetricData[0];
    assert.ok(last.Time > now);
    assert.equal(last.Data, null);
    assert.ok(r.StatisticsData[1].MetricData.filter((p: any) => p.Time <= now).every((p: any) => p.Data === 0));
    // Another account's listener of the same id would not see these counters.
    await seedListener(server, ACCOUNT_B, 'listener-stat0001', { ProxyId: 'link-x' });
    const other = await b.DescribeListenerStatistics({ ListenerId: 'listener-stat0001', StartTime: bj(hourStart), EndTime: bj(hourStart + 3600), Granularity: 300, MetricNames: ['InBandwidth'] });
    assert.ok(other.StatisticsData[0].MetricData.every((p: any) => p.Data === 0));
  });

  it('DescribeRealServerStatistics: health series over WithinTime or a range', async () => {
    const r = await a.DescribeRealServerStatistics({ RealServerId: 'rs-stat0001', ListenerId: 'listener-stat0001', WithinTime: 3 });
    assertResponseShape('gaap', 'DescribeRealServerStatistics', r);
    assert.equal(r.StatisticsData.length, 3 * 60 + 1);
    assert.equal(r.RsStatisticsData[0].MetricName, 'rs-stat0001');
    assert.equal(r.RsStatisticsData[0].MetricData.length, r.StatisticsData.length);
    // No health check has reported: no value.
    assert.ok(r.StatisticsData.every((p: any) => p.Data === null));
    const ranged = await a.DescribeRealServerStatistics({ RealServerId: 'rs-stat0001', ListenerId: 'listener-stat0001', StartTime: '2020-08-19 00:00:00', EndTime: '2020-08-19 23:59:59', Granularity: 300 });
    assertResponseShape('gaap', 'DescribeRealServerStatistics', ranged);
    assert.equal(ranged.StatisticsData.length, 288);
    assert.equal(await errorCode(a.DescribeRealServerStatistics({ RealServerId: 'rs-stat0001', ListenerId: 'listener-stat0001', WithinTime: 2 })), 'InvalidParameterValue');
    assert.equal(await errorCode(a.DescribeRealServerStatistics({ RealServerId: 'rs-stat0001', ListenerId: 'listener-stat0001', Granularity: 3600 })), 'InvalidParameterValue');
    assert.equal(await errorCode(a.DescribeRealServerStatistics({ RealServerId: 'rs-stat0001' })), 'MissingParameter');
    assert.equal(await errorCode(a.DescribeRealServerStatistics({ RealServerId: 'rs-stat0001', ListenerId: 'listener-stat0001', StartTime: '2020-08-19 00:00:00' })), 'MissingParameter');
    assert.equal(await errorCode(a.DescribeRealServerStatistics({ RealServerId: 'rs-nothere1', ListenerId: 'listener-stat0001' })), 'ResourceNotFound');
    assert.equal(await errorCode(a.DescribeRealServerStatistics({ RealServerId: 'rs-stat0001', RuleId: 'rule-nothere1' })), 'ResourceNotFound');
    assert.equal(await errorCode(b.DescribeRealServerStatistics({ RealServerId: 'rs-stat0001', ListenerId: 'listener-stat0001' })), 'ResourceNotFound');
  });

  it('works on a proxy and listener created through the API', async () => {
    const { InstanceId } = await a.CreateProxy({ ProjectId: 11, ProxyName: 'stats-api', AccessRegion: 'Hongkong', RealServerRegion: 'Beijing', Bandwidth: 10, Concurrent: 2 });
    const { ListenerIds } = await a.CreateTCPListeners({ ListenerName: 'stats-l', Ports: [9000], Scheduler: 'rr', HealthCheck: 0, RealServerType: 'IP', ProxyId: InstanceId });
    const q = { StartTime: '2024-01-01 00:00:00', EndTime: '2024-01-01 01:00:00', Granularity: 300, MetricNames: ['Concurrent'] };
    const p = await a.DescribeProxyStatistics({ ProxyId: InstanceId, ...q });
    assertResponseShape('gaap', 'DescribeProxyStatistics', p);
    assert.ok(p.StatisticsData[0].MetricData.every((x: any) => x.Data === 0));
    const l = await a.DescribeListenerStatistics({ ListenerId: ListenerIds[0], ...q });
    assert.equal(l.StatisticsData[0].MetricData.length, 13);
    const listed = await a.DescribeProxyAndStatisticsListeners({ ProjectId: 11 });
    assertResponseShape('gaap', 'DescribeProxyAndStatisticsListeners', listed);
    assert.deepEqual(listed.ProxySet, [{ ProxyId: InstanceId, ProxyName: 'stats-api', ListenerList: [{ ListenerId: ListenerIds[0], ListenerName: 'stats-l', Port: 9000, Protocol: 'TCP' }] }]);
  });

  it('DescribeProxyAndStatisticsListeners and DescribeGroupAndStatisticsProxy list what has statistics', async () => {
    const p0 = await a.DescribeProxyAndStatisticsListeners({ ProjectId: 0 });
    assertResponseShape('gaap', 'DescribeProxyAndStatisticsListeners', p0);
    assert.equal(p0.TotalCount, 1);
    assert.deepEqual(p0.ProxySet[0], {
      ProxyId: 'link-stat0001', ProxyName: 'name-link-stat0001',
      ListenerList: [{ ListenerId: 'listener-stat0001', ListenerName: 'name-listener-stat0001', Port: 8080, Protocol: 'TCP' }],
    });
    const all = await a.DescribeProxyAndStatisticsListeners({ ProjectId: -1 });
    const ids = all.ProxySet.map((x: any) => x.ProxyId);
    assert.equal(all.TotalCount, ids.length);
    assert.ok(ids.includes('link-stat0001') && ids.includes('link-stat0002'));
    const g = await a.DescribeGroupAndStatisticsProxy({ ProjectId: 5 });
    assertResponseShape('gaap', 'DescribeGroupAndStatisticsProxy', g);
    assert.equal(g.TotalCount, 1);
    assert.equal(g.GroupSet[0].GroupId, 'lg-stat0001');
    assert.equal(g.GroupSet[0].ProxySet[0].ProxyId, 'link-stat0002');
    assert.deepEqual(g.GroupSet[0].ProxySet[0].ListenerList.map((l: any) => l.ListenerId), ['listener-stat0002']);
    assert.equal((await a.DescribeGroupAndStatisticsProxy({ ProjectId: 0 })).TotalCount, 0);
    const none = await b.DescribeGroupAndStatisticsProxy({ ProjectId: 5 });
    assertResponseShape('gaap', 'DescribeGroupAndStatisticsProxy', none);
    assert.equal(none.TotalCount, 0);
    assert.deepEqual(none.GroupSet, []);
  });
});
