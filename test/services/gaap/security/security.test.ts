/**
 * GAAP security policies and rules through the official SDK: one policy per
 * proxy or group, open/close with their task IDs, rule validation and
 * account isolation.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { RunningServer } from '../../../../src/server';
import { ACCOUNT_A, ACCOUNT_B, advance, cnClient, errorCode, MANUAL_TRANSITIONS, startTclocal } from '../../../helpers';
import { assertResponseShape } from '../../../support/response-shape';

const shape = (action: string, res: any) => {
  assertResponseShape('gaap', action, res);
  return res;
};

const proxyInput = { ProjectId: 0, ProxyName: 'sec', AccessRegion: 'Hongkong', RealServerRegion: 'Beijing', Bandwidth: 10, Concurrent: 2 };

describe('gaap security policies', () => {
  let server: RunningServer;
  before(async () => {
    server = await startTclocal({ rateLimits: false });
  });
  after(() => server.stop());

  it('creates one policy per proxy, linked from the proxy', async () => {
    const c = cnClient('gaap', server, { account: ACCOUNT_A });
    const { InstanceId } = await c.CreateProxy(proxyInput);
    const res = shape('CreateSecurityPolicy', await c.CreateSecurityPolicy({ ProxyId: InstanceId, DefaultAction: 'Accept' }));
    assert.match(res.PolicyId, /^sp-[a-z0-9]{8}$/);
    const d = shape('DescribeSecurityPolicyDetail', await c.DescribeSecurityPolicyDetail({ PolicyId: res.PolicyId }));
    assert.deepEqual(d, { ...d, ProxyId: InstanceId, Status: 'UNBIND', DefaultAction: 'ACCEPT', PolicyId: res.PolicyId, RuleList: [] });
    assert.equal((await c.DescribeProxyDetail({ ProxyId: InstanceId })).ProxyDetail.PolicyId, res.PolicyId);
    assert.equal(await errorCode(c.CreateSecurityPolicy({ ProxyId: InstanceId, DefaultAction: 'DROP' })), 'FailedOperation.ProxySecurityPolicyExisted');
    assert.equal(await errorCode(c.CreateSecurityPolicy({ ProxyId: 'link-nothere1', DefaultAction: 'DROP' })), 'ResourceNotFound');
    assert.equal(await errorCode(c.CreateSecurityPolicy({ DefaultAction: 'DROP' })), 'MissingParameter');
    assert.equal(await errorCode(c.CreateSecurityPolicy({ ProxyId: InstanceId, DefaultAction: 'MAYBE' })), 'InvalidParameterValue');
    const b = cnClient('gaap', server, { account: ACCOUNT_B });
    assert.equal(await errorCode(b.DescribeSecurityPolicyDetail({ PolicyId: res.PolicyId })), 'ResourceNotFound');
    assert.equal(await errorCode(b.CreateSecurityPolicy({ ProxyId: InstanceId, DefaultAction: 'DROP' })), 'ResourceNotFound');
  });

  it('creates a group policy, reported in the group detail', async () => {
    const c = cnClient('gaap', server, { account: ACCOUNT_A });
    const { GroupId } = await c.CreateProxyGroup({ ProjectId: 0, GroupName: 'g', RealServerRegion: 'Beijing' });
    const { PolicyId } = await c.CreateSecurityPolicy({ GroupId, DefaultAction: 'DROP' });
    assert.equal((await c.DescribeProxyGroupDetails({ GroupId })).ProxyGroupDetail.PolicyId, PolicyId);
    const d = shape('DescribeSecurityPolicyDetail', await c.DescribeSecurityPolicyDetail({ PolicyId }));
    assert.equal(d.DefaultAction, 'DROP');
    assert.equal(await errorCode(c.CreateSecurityPolicy({ GroupId, DefaultAction: 'DROP' })), 'FailedOperation.ProxySecurityPolicyExisted');
    shape('OpenSecurityPolicy', await c.OpenSecurityPolicy({ PolicyId }));
    assert.equal((await c.DescribeSecurityPolicyDetail({ PolicyId })).Status, 'BOUND');
    shape('DeleteSecurityPolicy', await c.DeleteSecurityPolicy({ PolicyId }));
    assert.equal((await c.DescribeProxyGroupDetails({ GroupId })).ProxyGroupDetail.PolicyId, '');
  });

  it('opens and closes by PolicyId or ProxyId, refusing repeats', async () => {
    const c = cnClient('gaap', server, { account: ACCOUNT_A });
    const { InstanceId } = await c.CreateProxy(proxyInput);
    const { PolicyId } = await c.CreateSecurityPolicy({ ProxyId: InstanceId, DefaultAction: 'ACCEPT' });
    assert.equal(await errorCode(c.CloseSecurityPolicy({ PolicyId })), 'FailedOperation.ProxySecurityAlreadyClose');
    const open = shape('OpenSecurityPolicy', await c.OpenSecurityPolicy({ ProxyId: InstanceId }));
    assert.match(open.TaskId, /^\d+\.\d+$/);
    assert.equal((await c.DescribeTaskStatus({ TaskId: open.TaskId })).Status, 'SUCCESS');
    assert.equal((await c.DescribeSecurityPolicyDetail({ PolicyId })).Status, 'BOUND');
    assert.equal(await errorCode(c.OpenSecurityPolicy({ PolicyId })), 'FailedOperation.ProxySecurityAlreadyOpen');
    const close = shape('CloseSecurityPolicy', await c.CloseSecurityPolicy({ PolicyId, ProxyId: InstanceId }));
    assert.notEqual(close.TaskId, open.TaskId);
    assert.equal((await c.DescribeSecurityPolicyDetail({ PolicyId })).Status, 'UNBIND');
    assert.equal(await errorCode(c.OpenSecurityPolicy({})), 'MissingParameter');
    assert.equal(await errorCode(c.OpenSecurityPolicy({ PolicyId: 'sp-nothere1' })), 'ResourceNotFound');
    const { InstanceId: bare } = await c.CreateProxy(proxyInput);
    assert.equal(await errorCode(c.OpenSecurityPolicy({ ProxyId: bare })), 'ResourceNotFound');
    assert.equal(await errorCode(c.OpenSecurityPolicy({ ProxyId: bare, PolicyId })), 'InvalidParameterValue');
  });

  it('creates, lists, modifies and deletes rules with the documented validations', async () => {
    const c = cnClient('gaap', server, { account: ACCOUNT_B });
    const { InstanceId } = await c.CreateProxy(proxyInput);
    const { PolicyId } = await c.CreateSecurityPolicy({ ProxyId: InstanceId, DefaultAction: 'ACCEPT' });
    const created = shape('CreateSecurityRules', await c.CreateSecurityRules({
      PolicyId,
      RuleList: [
        { SourceCidr: '113.16.26.0/24', Action: 'drop', AliasName: 'a'.repeat(40), Protocol: 'tcp', DestPortRange: '80,443' },
        { SourceCidr: '10.0.0.1', Action: 'ACCEPT' },
      ],
    }));
    assert.equal(created.RuleIdList.length, 2);
    for (const id of created.RuleIdList) assert.match(id, /^sr-[a-z0-9]{8}$/);
    const detail = await c.DescribeSecurityPolicyDetail({ PolicyId });
    assert.equal(detail.RuleList.length, 2);
    const rules = shape('DescribeSecurityRules', await c.DescribeSecurityRules({ SecurityRuleIds: created.RuleIdList }));
    assert.equal(rules.TotalCount, 2);
    const first = rules.SecurityRuleSet.find((r: any) => r.RuleId === created.RuleIdList[0]);
    assert.deepEqual(first, {
      Action: 'DROP', SourceCidr: '113.16.26.0/24', AliasName: 'a'.repeat(30), DestPortRange: '80,443', RuleId: created.RuleIdList[0], Protocol: 'TCP', PolicyId,
    });
    const second = rules.SecurityRuleSet.find((r: any) => r.RuleId === created.RuleIdList[1]);
    assert.equal(second.Protocol, 'ALL');
    assert.equal(second.DestPortRange, 'ALL');

    const rule = (over: Record<string, unknown>) => c.CreateSecurityRules({ PolicyId, RuleList: [{ SourceCidr: '1.2.3.4', Action: 'DROP', ...over }] });
    assert.equal(await errorCode(rule({ SourceCidr: '113.16.26.0/24', Protocol: 'TCP', DestPortRange: '80,443', Action: 'ACCEPT' })), 'FailedOperation.ProxySecurityPolicyDuplicatedRule');
    assert.equal(await errorCode(c.CreateSecurityRules({ PolicyId, RuleList: [{ SourceCidr: '9.9.9.9', Action: 'DROP' }, { SourceCidr: '9.9.9.9', Action: 'ACCEPT' }] })), 'FailedOperation.ProxySecurityPolicyDuplicatedRule');
    assert.equal(await errorCode(rule({ SourceCidr: '0.0.0.0/0' })), 'FailedOperation.ProxySecurityPolicyDefaultRule');
    assert.equal(await errorCode(rule({ SourceCidr: '300.1.1.1' })), 'InvalidParameterValue');
    assert.equal(await errorCode(rule({ SourceCidr: '1.1.1.0/33' })), 'InvalidParameterValue');
    assert.equal(await errorCode(rule({ Action: 'REJECT' })), 'InvalidParameterValue');
    assert.equal(await errorCode(rule({ Protocol: 'ICMP' })), 'InvalidParameterValue');
    assert.equal(await errorCode(rule({ DestPortRange: '70000' })), 'InvalidParameterValue');
    assert.equal(await errorCode(rule({ DestPortRange: '90-80' })), 'InvalidParameterValue');
    assert.equal(await errorCode(c.CreateSecurityRules({ PolicyId: 'sp-nothere1', RuleList: [{ SourceCidr: '1.2.3.4', Action: 'DROP' }] })), 'ResourceNotFound');
    shape('CreateSecurityRules', await rule({ DestPortRange: '3306-20000', Protocol: 'UDP' }));
    assert.equal((await c.DescribeSecurityPolicyDetail({ PolicyId })).RuleList.length, 3, 'failed calls created nothing');

    shape('ModifySecurityRule', await c.ModifySecurityRule({ PolicyId, RuleId: created.RuleIdList[1], AliasName: 'office', RuleAction: 'DROP', DestPortRange: '22' }));
    const modified = (await c.DescribeSecurityRules({ SecurityRuleIds: [created.RuleIdList[1]] })).SecurityRuleSet[0];
    assert.equal(modified.AliasName, 'office');
    assert.equal(modified.Action, 'DROP');
    assert.equal(modified.DestPortRange, '22');
    assert.equal(modified.SourceCidr, '10.0.0.1');
    assert.equal(await errorCode(c.ModifySecurityRule({ PolicyId, RuleId: created.RuleIdList[1], AliasName: 'x', SourceCidr: '113.16.26.0/24', Protocol: 'TCP', DestPortRange: '80,443' })), 'FailedOperation.ProxySecurityPolicyDuplicatedRule');
    assert.equal(await errorCode(c.ModifySecurityRule({ PolicyId, RuleId: created.RuleIdList[1], AliasName: 'x', SourceCidr: '0.0.0.0/0', Protocol: 'ALL', DestPortRange: 'ALL' })), 'FailedOperation.ProxySecurityPolicyDefaultRule');
    assert.equal(await errorCode(c.ModifySecurityRule({ PolicyId, RuleId: 'sr-nothere1', AliasName: 'x' })), 'ResourceNotFound');

    assert.equal(await errorCode(c.DescribeSecurityRules({ SecurityRuleIds: Array.from({ length: 21 }, (_, i) => `sr-${i}`) })), 'InvalidParameterValue');
    assert.equal(await errorCode(c.DeleteSecurityRules({ PolicyId, RuleIdList: ['sr-nothere1'] })), 'ResourceNotFound');
    shape('DeleteSecurityRules', await c.DeleteSecurityRules({ PolicyId, RuleIdList: [created.RuleIdList[0]] }));
    assert.equal((await c.DescribeSecurityRules({ SecurityRuleIds: created.RuleIdList })).TotalCount, 1);
    const a = cnClient('gaap', server, { account: ACCOUNT_A });
    assert.equal((await a.DescribeSecurityRules({ SecurityRuleIds: created.RuleIdList })).TotalCount, 0);

    shape('DeleteSecurityPolicy', await c.DeleteSecurityPolicy({ PolicyId }));
    assert.equal(await errorCode(c.DescribeSecurityPolicyDetail({ PolicyId })), 'ResourceNotFound');
    assert.equal((await c.DescribeSecurityRules({ SecurityRuleIds: created.RuleIdList })).TotalCount, 0);
    assert.equal((await c.DescribeProxyDetail({ ProxyId: InstanceId })).ProxyDetail.PolicyId, null);
    // The proxy can have a policy again.
    await c.CreateSecurityPolicy({ ProxyId: InstanceId, DefaultAction: 'DROP' });
  });

  it('a destroyed proxy takes its policy and rules with it', async () => {
    const c = cnClient('gaap', server, { account: ACCOUNT_B });
    const { InstanceId } = await c.CreateProxy(proxyInput);
    const { PolicyId } = await c.CreateSecurityPolicy({ ProxyId: InstanceId, DefaultAction: 'ACCEPT' });
    const { RuleIdList } = await c.CreateSecurityRules({ PolicyId, RuleList: [{ SourceCidr: '8.8.8.8', Action: 'DROP' }] });
    await c.DestroyProxies({ ProxyIds: [InstanceId], Force: 1 });
    assert.equal(await errorCode(c.DescribeSecurityPolicyDetail({ PolicyId })), 'ResourceNotFound');
    assert.equal((await c.DescribeSecurityRules({ SecurityRuleIds: RuleIdList })).TotalCount, 0);
  });
});

describe('gaap security policies: transient statuses', () => {
  let server: RunningServer;
  before(async () => {
    server = await startTclocal({ ...MANUAL_TRANSITIONS, rateLimits: false });
  });
  after(() => server.stop());

  it('UNBIND → BINDING → BOUND → UNBINDING → UNBIND, with a resolvable TaskId', async () => {
    const c = cnClient('gaap', server);
    const { InstanceId } = await c.CreateProxy(proxyInput);
    await advance(server);
    const { PolicyId } = await c.CreateSecurityPolicy({ ProxyId: InstanceId, DefaultAction: 'ACCEPT' });
    const open = await c.OpenSecurityPolicy({ PolicyId });
    assert.equal((await c.DescribeSecurityPolicyDetail({ PolicyId })).Status, 'BINDING');
    assert.equal((await c.DescribeTaskStatus({ TaskId: open.TaskId })).Status, 'RUNNING');
    assert.equal(await errorCode(c.OpenSecurityPolicy({ PolicyId })), 'FailedOperation.ActionIsDoing');
    assert.equal(await errorCode(c.CloseSecurityPolicy({ PolicyId })), 'FailedOperation.ActionIsDoing');
    assert.equal(await errorCode(c.CreateSecurityRules({ PolicyId, RuleList: [{ SourceCidr: '1.1.1.1', Action: 'DROP' }] })), 'FailedOperation.ProxySecurityPolicyOperating');
    assert.equal(await errorCode(c.DeleteSecurityPolicy({ PolicyId })), 'FailedOperation');
    await advance(server);
    assert.equal((await c.DescribeSecurityPolicyDetail({ PolicyId })).Status, 'BOUND');
    assert.equal((await c.DescribeTaskStatus({ TaskId: open.TaskId })).Status, 'SUCCESS');
    const { RuleIdList } = await c.CreateSecurityRules({ PolicyId, RuleList: [{ SourceCidr: '1.1.1.1', Action: 'DROP' }] });
    const close = await c.CloseSecurityPolicy({ PolicyId });
    assert.equal((await c.DescribeSecurityPolicyDetail({ PolicyId })).Status, 'UNBINDING');
    assert.equal(await errorCode(c.ModifySecurityRule({ PolicyId, RuleId: RuleIdList[0], AliasName: 'x' })), 'FailedOperation.ProxySecurityPolicyOperating');
    await advance(server);
    assert.equal((await c.DescribeTaskStatus({ TaskId: close.TaskId })).Status, 'SUCCESS');
    assert.equal((await c.DescribeSecurityPolicyDetail({ PolicyId })).Status, 'UNBIND');
  });
});
