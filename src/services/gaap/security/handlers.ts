import { isIP } from 'node:net';
import { ApiError, invalidParameterValue, missingParameter, resourceNotFound } from '../../../core/errors';
import { resourceId } from '../../../core/ids';
import type { CloseSecurityPolicyRequest, CreateSecurityPolicyRequest, CreateSecurityRulesRequest, DeleteSecurityPolicyRequest, DeleteSecurityRulesRequest, DescribeSecurityPolicyDetailRequest, DescribeSecurityRulesRequest, GaapActions, ModifySecurityRuleRequest, OpenSecurityPolicyRequest, SecurityPolicyRuleOut } from '../../../spec/gaap.types';
import type { ResourceRecord } from '../../../store/types';
import { upperEnum } from '../../kit/checks';
import type { ActionContext, HandlerOf, HandlerPart, TransitionHandler } from '../../types';
import { KIND } from '../kinds';
import { PROXY } from '../proxy/model';
import { startTask } from '../task/model';
import { POLICY_T, busyMessage, getPolicy, policyLife, policyRulesOf, type PolicyData, type PolicyRec } from './model';

/**
 * Security policies (one per proxy or group; record parent = owner) and their
 * rules (record parent = PolicyId, data = SecurityPolicyRuleOut).
 */

function checkCidr(name: string, v: string): string {
  const s = v.trim();
  const [addr, prefix, ...rest] = s.split('/');
  const family = isIP(addr ?? '');
  const okPrefix = prefix === undefined || (/^\d{1,3}$/.test(prefix) && Number(prefix) <= (family === 6 ? 128 : 32));
  if (!family || rest.length > 0 || !okPrefix) throw invalidParameterValue(name, `\`${v}\` is not an IP address or CIDR block`);
  return s;
}

function checkPortRange(name: string, v: string | undefined): string {
  if (v === undefined || v === '') return 'ALL';
  const s = v.trim();
  if (s.toUpperCase() === 'ALL') return 'ALL';
  const port = (p: string) => /^\d{1,5}$/.test(p) && Number(p) >= 1 && Number(p) <= 65535;
  const range = /^(\d{1,5})-(\d{1,5})$/.exec(s);
  const ok = range ? port(range[1]) && port(range[2]) && Number(range[1]) <= Number(range[2]) : s.split(',').every(port);
  if (!ok) throw invalidParameterValue(name, `\`${v}\` is not a port, a list of ports (80,443), a range (3306-20000) or ALL`);
  return s;
}

const ANY_SOURCE = new Set(['0.0.0.0/0', '0.0.0.0', '::/0']);
const ruleKey = (r: { SourceCidr: string; Protocol: string; DestPortRange: string }) => `${r.SourceCidr}|${r.Protocol}|${r.DestPortRange}`;

/** The policy's default rule (any source, any protocol, any port) belongs to DefaultAction; no rule may redefine it. */
function assertNotDefaultRule(r: { SourceCidr: string; Protocol: string; DestPortRange: string }): void {
  if (ANY_SOURCE.has(r.SourceCidr) && r.Protocol === 'ALL' && r.DestPortRange === 'ALL') {
    throw new ApiError('FailedOperation.ProxySecurityPolicyDefaultRule', 'A rule for every source, protocol and port is the default rule of the policy; change `DefaultAction` instead.');
  }
}

function assertNotOperating(p: PolicyRec): void {
  policyLife.assertIdle(p, 'FailedOperation.ProxySecurityPolicyOperating', busyMessage(p));
}

const CreateSecurityPolicy: HandlerOf<GaapActions, 'CreateSecurityPolicy'> = async (input: CreateSecurityPolicyRequest, ctx) => {
  const action = upperEnum('DefaultAction', input.DefaultAction, ['ACCEPT', 'DROP']);
  if (input.ProxyId && input.GroupId) throw new ApiError('InvalidParameter', 'The parameters `ProxyId` and `GroupId` cannot be given together.');
  if (!input.ProxyId && !input.GroupId) throw missingParameter('ProxyId');
  const ownerKind = input.ProxyId ? KIND.proxy : KIND.group;
  const ownerId = (input.ProxyId ?? input.GroupId)!;
  const owner = await ctx.tx.get<Record<string, unknown>>(ownerKind, ownerId);
  if (!owner) throw resourceNotFound(input.ProxyId ? 'proxy' : 'proxy group', ownerId);
  if (owner.status === PROXY.DESTROYING) throw new ApiError('FailedOperation', `The ${input.ProxyId ? 'proxy' : 'proxy group'} \`${ownerId}\` is being destroyed.`);
  const existing = (await ctx.tx.list(KIND.securityPolicy, { parent: ownerId, limit: 1 })).items[0];
  if (existing) {
    throw new ApiError('FailedOperation.ProxySecurityPolicyExisted', `The ${input.ProxyId ? 'proxy' : 'proxy group'} \`${ownerId}\` already has the security policy \`${existing.id}\`.`);
  }
  const id = resourceId('sp');
  const data: PolicyData = {
    PolicyId: id, ProxyId: input.ProxyId ?? null, GroupId: input.GroupId ?? null, Status: 'UNBIND', DefaultAction: action,
  };
  await ctx.tx.put({ kind: KIND.securityPolicy, id, parent: ownerId, status: 'UNBIND', createdAt: ctx.now, data });
  await ctx.tx.put({ ...owner, data: { ...owner.data, PolicyId: id } });
  return { PolicyId: id };
};

const DescribeSecurityPolicyDetail: HandlerOf<GaapActions, 'DescribeSecurityPolicyDetail'> = async (input: DescribeSecurityPolicyDetailRequest, ctx) => {
  const p = await getPolicy(ctx.tx, input.PolicyId);
  const rules = await policyRulesOf(ctx.tx, p.id);
  return {
    // A group's policy answers the group's ID here: the field is the policy's owner.
    ProxyId: p.data.ProxyId ?? p.data.GroupId,
    Status: p.status ?? p.data.Status,
    DefaultAction: p.data.DefaultAction,
    PolicyId: p.id,
    RuleList: rules.map((r) => r.data),
  };
};

/** Resolves the policy of an Open/Close call from PolicyId and/or ProxyId. */
async function policyOfCall(ctx: ActionContext, input: { ProxyId?: string; PolicyId?: string }): Promise<PolicyRec> {
  if (input.PolicyId) {
    const p = await getPolicy(ctx.tx, input.PolicyId);
    if (input.ProxyId && p.parent !== input.ProxyId) {
      throw invalidParameterValue('PolicyId', `the security policy \`${p.id}\` does not belong to the proxy \`${input.ProxyId}\``);
    }
    return p;
  }
  if (!input.ProxyId) throw missingParameter('PolicyId');
  const proxy = await ctx.tx.get(KIND.proxy, input.ProxyId);
  if (!proxy) throw resourceNotFound('proxy', input.ProxyId);
  const p = (await ctx.tx.list<PolicyData>(KIND.securityPolicy, { parent: input.ProxyId, limit: 1 })).items[0];
  if (!p) throw resourceNotFound('security policy of the proxy', input.ProxyId);
  return p;
}

async function switchPolicy(ctx: ActionContext, p: PolicyRec, from: string, transient: string, transition: string, op: 1 | 2) {
  const seq = await ctx.tx.nextSequence('gaap.securityPolicyTask');
  const taskId = `${seq}.${op}`;
  await policyLife.move(ctx.tx, p, transient);
  await startTask(ctx, transition, { policyId: p.id, from: transient, to: from === 'UNBIND' ? 'BOUND' : 'UNBIND' }, taskId);
  return { TaskId: taskId };
}

const OpenSecurityPolicy: HandlerOf<GaapActions, 'OpenSecurityPolicy'> = async (input: OpenSecurityPolicyRequest, ctx) => {
  const p = await policyOfCall(ctx, input);
  policyLife.assertIdle(p, 'FailedOperation.ActionIsDoing', busyMessage(p));
  if (p.status === 'BOUND') throw new ApiError('FailedOperation.ProxySecurityAlreadyOpen', `The security policy \`${p.id}\` is already open.`);
  return switchPolicy(ctx, p, 'UNBIND', 'BINDING', POLICY_T.opened, 1);
};

const CloseSecurityPolicy: HandlerOf<GaapActions, 'CloseSecurityPolicy'> = async (input: CloseSecurityPolicyRequest, ctx) => {
  const p = await policyOfCall(ctx, input);
  policyLife.assertIdle(p, 'FailedOperation.ActionIsDoing', busyMessage(p));
  if (p.status === 'UNBIND') throw new ApiError('FailedOperation.ProxySecurityAlreadyClose', `The security policy \`${p.id}\` is already closed.`);
  return switchPolicy(ctx, p, 'BOUND', 'UNBINDING', POLICY_T.closed, 2);
};

const DeleteSecurityPolicy: HandlerOf<GaapActions, 'DeleteSecurityPolicy'> = async (input: DeleteSecurityPolicyRequest, ctx) => {
  const p = await getPolicy(ctx.tx, input.PolicyId);
  policyLife.assertIdle(p, 'FailedOperation', busyMessage(p));
  for (const r of await policyRulesOf(ctx.tx, p.id)) await ctx.tx.delete(KIND.securityRule, r.id);
  await ctx.tx.delete(KIND.securityPolicy, p.id);
  const ownerKind = p.data.ProxyId ? KIND.proxy : KIND.group;
  const owner = p.parent ? await ctx.tx.get<Record<string, unknown>>(ownerKind, p.parent) : undefined;
  if (owner && owner.data.PolicyId === p.id) {
    await ctx.tx.put({ ...owner, data: { ...owner.data, PolicyId: ownerKind === KIND.proxy ? null : '' } });
  }
  return {};
};

const CreateSecurityRules: HandlerOf<GaapActions, 'CreateSecurityRules'> = async (input: CreateSecurityRulesRequest, ctx) => {
  const p = await getPolicy(ctx.tx, input.PolicyId);
  assertNotOperating(p);
  if (input.RuleList.length === 0) throw missingParameter('RuleList');
  const keys = new Set((await policyRulesOf(ctx.tx, p.id)).map((r) => ruleKey(r.data)));
  const out: SecurityPolicyRuleOut[] = [];
  input.RuleList.forEach((r, i) => {
    const rule: SecurityPolicyRuleOut = {
      Action: upperEnum(`RuleList.${i}.Action`, r.Action, ['ACCEPT', 'DROP']),
      SourceCidr: checkCidr(`RuleList.${i}.SourceCidr`, r.SourceCidr),
      AliasName: [...(r.AliasName ?? '')].slice(0, 30).join(''),
      DestPortRange: checkPortRange(`RuleList.${i}.DestPortRange`, r.DestPortRange),
      RuleId: '',
      Protocol: r.Protocol ? upperEnum(`RuleList.${i}.Protocol`, r.Protocol, ['TCP', 'UDP', 'ALL']) : 'ALL',
      PolicyId: p.id,
    };
    assertNotDefaultRule(rule);
    if (keys.has(ruleKey(rule))) {
      throw new ApiError('FailedOperation.ProxySecurityPolicyDuplicatedRule', `The policy \`${p.id}\` already has a rule for source ${rule.SourceCidr}, protocol ${rule.Protocol} and ports ${rule.DestPortRange}.`);
    }
    keys.add(ruleKey(rule));
    out.push(rule);
  });
  const ids: string[] = [];
  for (const rule of out) {
    const id = resourceId('sr');
    await ctx.tx.put({ kind: KIND.securityRule, id, parent: p.id, status: null, createdAt: ctx.now, data: { ...rule, RuleId: id } });
    ids.push(id);
  }
  return { RuleIdList: ids };
};

const DeleteSecurityRules: HandlerOf<GaapActions, 'DeleteSecurityRules'> = async (input: DeleteSecurityRulesRequest, ctx) => {
  const p = await getPolicy(ctx.tx, input.PolicyId);
  if (input.RuleIdList.length === 0) throw missingParameter('RuleIdList');
  policyLife.assertIdle(p, 'FailedOperation', busyMessage(p));
  const recs: ResourceRecord[] = [];
  for (const id of new Set(input.RuleIdList)) {
    const r = await ctx.tx.get(KIND.securityRule, id);
    if (!r || r.parent !== p.id) throw resourceNotFound(`rule of the security policy ${p.id}`, id);
    recs.push(r);
  }
  for (const r of recs) await ctx.tx.delete(KIND.securityRule, r.id);
  return {};
};

const ModifySecurityRule: HandlerOf<GaapActions, 'ModifySecurityRule'> = async (input: ModifySecurityRuleRequest, ctx) => {
  const p = await getPolicy(ctx.tx, input.PolicyId);
  const rec = await ctx.tx.get<SecurityPolicyRuleOut>(KIND.securityRule, input.RuleId);
  if (!rec || rec.parent !== p.id) throw resourceNotFound(`rule of the security policy ${p.id}`, input.RuleId);
  assertNotOperating(p);
  const rule: SecurityPolicyRuleOut = {
    ...rec.data,
    AliasName: [...input.AliasName].slice(0, 30).join(''),
    Action: input.RuleAction ? upperEnum('RuleAction', input.RuleAction, ['ACCEPT', 'DROP']) : rec.data.Action,
    SourceCidr: input.SourceCidr ? checkCidr('SourceCidr', input.SourceCidr) : rec.data.SourceCidr,
    Protocol: input.Protocol ? upperEnum('Protocol', input.Protocol, ['TCP', 'UDP', 'ALL']) : rec.data.Protocol,
    DestPortRange: input.DestPortRange ? checkPortRange('DestPortRange', input.DestPortRange) : rec.data.DestPortRange,
  };
  assertNotDefaultRule(rule);
  const clash = (await policyRulesOf(ctx.tx, p.id)).find((r) => r.id !== rec.id && ruleKey(r.data) === ruleKey(rule));
  if (clash) {
    throw new ApiError('FailedOperation.ProxySecurityPolicyDuplicatedRule', `The rule \`${clash.id}\` of policy \`${p.id}\` already covers source ${rule.SourceCidr}, protocol ${rule.Protocol} and ports ${rule.DestPortRange}.`);
  }
  await ctx.tx.put({ ...rec, data: rule });
  return {};
};

const DescribeSecurityRules: HandlerOf<GaapActions, 'DescribeSecurityRules'> = async (input: DescribeSecurityRulesRequest, ctx) => {
  if (input.SecurityRuleIds.length > 20) throw invalidParameterValue('SecurityRuleIds', 'at most 20 rule IDs may be given');
  const { items } = input.SecurityRuleIds.length === 0
    ? { items: [] }
    : await ctx.tx.list<SecurityPolicyRuleOut>(KIND.securityRule, { ids: input.SecurityRuleIds });
  return { TotalCount: items.length, SecurityRuleSet: items.map((r) => r.data) };
};

export const handlers = {
  CreateSecurityPolicy,
  DescribeSecurityPolicyDetail,
  OpenSecurityPolicy,
  CloseSecurityPolicy,
  DeleteSecurityPolicy,
  CreateSecurityRules,
  DeleteSecurityRules,
  ModifySecurityRule,
  DescribeSecurityRules,
} satisfies HandlerPart<GaapActions>;

const finishPolicy: TransitionHandler = async (p: { policyId: string; from: string; to: string }, tx) => {
  const rec = await tx.get<PolicyData>(KIND.securityPolicy, p.policyId);
  if (!rec || rec.status !== p.from) return;
  await policyLife.move(tx, rec, p.to);
};

export const transitions: Record<string, TransitionHandler> = {
  [POLICY_T.opened]: finishPolicy,
  [POLICY_T.closed]: finishPolicy,
};
