import { ApiError, invalidParameterValue } from '../../../core/errors';
import { resourceId } from '../../../core/ids';
import type { BindRuleRealServersRequest, CreateCustomHeaderRequest, CreateRuleRequest, DeleteRuleRequest, DescribeCustomHeaderRequest, DescribeRuleRealServersRequest, DescribeRulesByRuleIdsRequest, GaapActions, ModifyRuleAttributeRequest, RuleCheckParams } from '../../../spec/gaap.types';
import type { ResourceRecord } from '../../../store/types';
import type { ActionContext, HandlerPart, TransitionHandler } from '../../types';
import { isBlackHeader } from './black-headers';
import {
  assertDomainIdle,
  checkDomainName,
  checkL7Delete,
  DOMAIN_RUNNING,
  HEALTH_CHECK_BLOCKING_DEFAULTS,
  domainKey,
  getL7Listener,
  guardListener,
  newDomainData,
  putDomain,
  putRule,
  RULE_BINDING,
  RULE_CHANGING,
  RULE_CREATING,
  RULE_DELETING,
  RULE_RUNNING,
  listenerForwardProtocol,
  rulesOfDomain,
  type L7DomainData,
  type L7ListenerData,
  type RuleData,
  assertRuleIdle,
} from './model';
import { SCHEDULERS, checkHealthTiming } from '../listener/model';
import { checkEnum, checkFlag } from '../../kit/checks';
import { ruleInfo } from './views';
import { paging } from '../../kit/paging';
import { KIND } from '../kinds';
import { checkBindSet, realServerTypeOf, realServerView, type RealServerData } from '../realserver/model';

/** Scheduled transitions of L7 rules. */
const T = { settled: 'rule.settled', removed: 'rule.removed' } as const;

const STATUS_CODES = [100, 200, 300, 400, 500];
const MAX_RULES_PER_DOMAIN = 100;
const MAX_HEADERS = 50;
const MAX_RULE_IDS = 10;
const HEADER_NAME = /^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/;

const ruleNotFound = (id: string) => new ApiError('ResourceNotFound', `The rule \`${id}\` does not exist.`);

async function getRule(ctx: ActionContext, ruleId: string, listenerId?: string): Promise<ResourceRecord<RuleData>> {
  const rec = await ctx.tx.get<RuleData>(KIND.rule, ruleId);
  if (!rec || (listenerId !== undefined && rec.data.ListenerId !== listenerId)) {
    throw listenerId !== undefined && rec ? new ApiError('ResourceNotFound', `The rule \`${ruleId}\` does not belong to listener \`${listenerId}\`.`) : ruleNotFound(ruleId);
  }
  return rec;
}

/** Paths are sent plain (`/image`) or URL-encoded (`%2Fimage`, as in the doc's example). */
function normalisePath(path: string, param: string): string {
  let p = path;
  if (p.startsWith('%')) {
    try {
      p = decodeURIComponent(p);
    } catch {
      throw invalidParameterValue(param, 'a URL path');
    }
  }
  if (!p.startsWith('/') || p.length > 80 || /\s/.test(p)) throw invalidParameterValue(param, 'a path starting with `/`, at most 80 characters, without spaces');
  return p;
}

function checkParams(given: Partial<RuleCheckParams> | undefined, base: RuleCheckParams, enabled: boolean): RuleCheckParams {
  const out: RuleCheckParams = { ...base };
  if (!given) return out;
  const int = (v: unknown, name: string, min: number, max: number): number => {
    if (!Number.isInteger(v) || (v as number) < min || (v as number) > max) throw invalidParameterValue(`CheckParams.${name}`, `an integer between ${min} and ${max}`);
    return v as number;
  };
  if (given.DelayLoop !== undefined) out.DelayLoop = given.DelayLoop;
  if (given.ConnectTimeout !== undefined) out.ConnectTimeout = given.ConnectTimeout;
  checkHealthTiming('CheckParams.', given, out, enabled);
  if (given.Path !== undefined && given.Path !== '') out.Path = normalisePath(given.Path, 'CheckParams.Path');
  if (given.Method !== undefined && given.Method !== '') {
    const m = given.Method.toUpperCase();
    if (m !== 'GET' && m !== 'HEAD') throw invalidParameterValue('CheckParams.Method', 'GET or HEAD');
    out.Method = m;
  }
  if (given.StatusCode !== undefined && given.StatusCode.length > 0) {
    for (const c of given.StatusCode) if (!STATUS_CODES.includes(c)) throw invalidParameterValue('CheckParams.StatusCode', `a subset of ${STATUS_CODES.join(', ')}`);
    out.StatusCode = [...new Set(given.StatusCode)].sort((a, b) => a - b);
  }
  if (given.FailedCountInter !== undefined) out.FailedCountInter = int(given.FailedCountInter, 'FailedCountInter', 0, 3600);
  if (given.FailedThreshold !== undefined) out.FailedThreshold = int(given.FailedThreshold, 'FailedThreshold', 0, 100);
  if (given.BlockInter !== undefined) out.BlockInter = int(given.BlockInter, 'BlockInter', 0, 86400);
  return out;
}

function checkScheduler(s: string): string {
  checkEnum('Scheduler', s, SCHEDULERS);
  return s;
}

function checkHealthCheck(v: number): number {
  checkFlag('HealthCheck', v);
  return v;
}

function sni(switchValue: string | undefined, name: string | undefined, current: { sw: string | null; name: string | null }): { sw: string | null; name: string | null } {
  let sw = current.sw;
  let n = current.name;
  if (switchValue !== undefined && switchValue !== '') {
    if (switchValue !== 'ON' && switchValue !== 'OFF') throw invalidParameterValue('ServerNameIndicationSwitch', 'ON or OFF');
    sw = switchValue;
  }
  if (name !== undefined) n = name;
  if (sw === 'ON' && !n) throw invalidParameterValue('ServerNameIndication', 'required when ServerNameIndicationSwitch is ON');
  return { sw, name: n };
}

async function pathTaken(ctx: ActionContext, listenerId: string, domain: string, path: string, exceptId?: string): Promise<boolean> {
  return (await rulesOfDomain(ctx.tx, listenerId, domain)).some((r) => r.id !== exceptId && r.data.Path === path);
}

export const handlers = {
  CreateRule: async (input: CreateRuleRequest, ctx) => {
    const listener = await getL7Listener(ctx, input.ListenerId);
    await guardListener(ctx, listener, {
      proxy: 'FailedOperation.InstanceStatusNotInRuning',
      group: 'FailedOperation.GroupStatusNotInRuning',
      version: undefined,
    });
    if (input.RealServerType !== 'IP' && input.RealServerType !== 'DOMAIN') throw invalidParameterValue('RealServerType', 'IP or DOMAIN');
    const scheduler = checkScheduler(input.Scheduler);
    const health = checkHealthCheck(input.HealthCheck);
    const path = normalisePath(input.Path, 'Path');
    checkDomainName(input.Domain, 'Domain');
    let forwardProtocol = listenerForwardProtocol(listener.data);
    const followsListener = input.ForwardProtocol === undefined || input.ForwardProtocol === '';
    if (!followsListener) {
      if (input.ForwardProtocol !== 'HTTP' && input.ForwardProtocol !== 'HTTPS') throw invalidParameterValue('ForwardProtocol', 'HTTP or HTTPS');
      forwardProtocol = input.ForwardProtocol;
    }
    const names = sni(input.ServerNameIndicationSwitch, input.ServerNameIndication, { sw: 'OFF', name: '' });
    const params = checkParams(input.CheckParams, { DelayLoop: 5, ConnectTimeout: 2, Path: '/', Method: 'HEAD', StatusCode: [...STATUS_CODES], Domain: input.Domain, ...HEALTH_CHECK_BLOCKING_DEFAULTS }, health === 1);
    if (input.CheckParams?.Domain) params.Domain = input.CheckParams.Domain;

    // A rule's domain is created with it when the listener does not have it yet.
    const key = domainKey(input.ListenerId, input.Domain);
    const domain = await ctx.tx.get<L7DomainData>(KIND.domain, key);
    if (domain) assertDomainIdle(domain, 'FailedOperation.ListenerHasTask');
    const ruleDomain = domain?.data.Domain ?? input.Domain;
    if (await pathTaken(ctx, input.ListenerId, ruleDomain, path)) {
      throw new ApiError('FailedOperation.RuleAlreadyExisted', `A rule for \`${ruleDomain}${path}\` already exists on listener \`${input.ListenerId}\`.`);
    }
    if ((await rulesOfDomain(ctx.tx, input.ListenerId, ruleDomain)).length >= MAX_RULES_PER_DOMAIN) {
      throw new ApiError('FailedOperation.LimitNumofRules', `The domain \`${ruleDomain}\` already has ${MAX_RULES_PER_DOMAIN} rules, the maximum.`);
    }
    if (!domain) {
      const data = newDomainData(input.ListenerId, input.Domain, { DomainStatus: DOMAIN_RUNNING });
      await putDomain(ctx.tx, { kind: KIND.domain, id: key, parent: input.ListenerId, status: null, createdAt: ctx.now, data });
    }
    const id = resourceId('rule');
    const data: RuleData = {
      RuleId: id,
      ListenerId: input.ListenerId,
      Domain: ruleDomain,
      DomainKey: ruleDomain.toLowerCase(),
      Path: path,
      RealServerType: input.RealServerType,
      Scheduler: scheduler,
      HealthCheck: health,
      RuleStatus: RULE_CREATING,
      CheckParams: params,
      RealServerSet: [],
      BindStatus: 1,
      ForwardHost: input.ForwardHost !== undefined && input.ForwardHost !== '' ? input.ForwardHost : 'default',
      ServerNameIndicationSwitch: names.sw,
      ServerNameIndication: names.name,
      ForcedRedirect: input.ForcedRedirect ?? '',
      ForwardProtocol: forwardProtocol,
      ForwardProtocolDefault: followsListener,
      Headers: [],
    };
    await putRule(ctx.tx, { kind: KIND.rule, id, parent: input.ListenerId, status: null, createdAt: ctx.now, data });
    await ctx.later(T.settled, { ruleId: id });
    return { RuleId: id };
  },

  ModifyRuleAttribute: async (input: ModifyRuleAttributeRequest, ctx) => {
    const listener = await getL7Listener(ctx, input.ListenerId);
    await guardListener(ctx, listener, { proxy: 'FailedOperation.InstanceStatusNotInRuning' });
    const rule = await getRule(ctx, input.RuleId, input.ListenerId);
    assertRuleIdle(rule);
    const d: RuleData = { ...rule.data };
    if (input.Scheduler !== undefined && input.Scheduler !== '') d.Scheduler = checkScheduler(input.Scheduler);
    if (input.HealthCheck !== undefined) d.HealthCheck = checkHealthCheck(input.HealthCheck);
    if (input.CheckParams !== undefined) {
      const given = input.CheckParams;
      if (given.Domain !== undefined && given.Domain !== '' && given.Domain !== rule.data.CheckParams.Domain) {
        throw invalidParameterValue('CheckParams.Domain', 'the health-check domain cannot be changed');
      }
      d.CheckParams = checkParams(given, rule.data.CheckParams, d.HealthCheck === 1);
    }
    if (input.Path !== undefined && input.Path !== '') {
      const path = normalisePath(input.Path, 'Path');
      if (path !== rule.data.Path && (await pathTaken(ctx, input.ListenerId, rule.data.Domain, path, rule.id))) {
        throw new ApiError('FailedOperation.RuleAlreadyExisted', `A rule for \`${rule.data.Domain}${path}\` already exists on listener \`${input.ListenerId}\`.`);
      }
      d.Path = path;
    }
    if (input.ForwardProtocol !== undefined && input.ForwardProtocol !== '') {
      if (!['default', 'HTTP', 'HTTPS'].includes(input.ForwardProtocol)) throw invalidParameterValue('ForwardProtocol', 'default, HTTP or HTTPS');
      d.ForwardProtocolDefault = input.ForwardProtocol === 'default';
      d.ForwardProtocol = d.ForwardProtocolDefault ? listenerForwardProtocol(listener.data) : input.ForwardProtocol;
    }
    if (input.ForwardHost !== undefined && input.ForwardHost !== '') d.ForwardHost = input.ForwardHost;
    const names = sni(input.ServerNameIndicationSwitch, input.ServerNameIndication, { sw: d.ServerNameIndicationSwitch, name: d.ServerNameIndication });
    d.ServerNameIndicationSwitch = names.sw;
    d.ServerNameIndication = names.name;
    if (input.ForcedRedirect !== undefined) d.ForcedRedirect = input.ForcedRedirect;
    d.RuleStatus = RULE_CHANGING;
    await putRule(ctx.tx, { ...rule, data: d });
    await ctx.later(T.settled, { ruleId: rule.id });
    return {};
  },

  DeleteRule: async (input: DeleteRuleRequest, ctx) => {
    await checkL7Delete(ctx, input.ListenerId, input.Force);
    const rule = await getRule(ctx, input.RuleId, input.ListenerId);
    const domain = await ctx.tx.get<L7DomainData>(KIND.domain, domainKey(input.ListenerId, rule.data.Domain));
    if (domain) assertDomainIdle(domain);
    assertRuleIdle(rule);
    if (input.Force === 0 && rule.data.RealServerSet.length > 0) {
      throw new ApiError('FailedOperation.RealServerAlreadyBound', `The rule \`${rule.id}\` has real servers bound; unbind them or set Force to 1.`);
    }
    await putRule(ctx.tx, { ...rule, data: { ...rule.data, RuleStatus: RULE_DELETING } });
    await ctx.later(T.removed, { ruleId: rule.id });
    return {};
  },

  DescribeRulesByRuleIds: async (input: DescribeRulesByRuleIdsRequest, ctx) => {
    if (input.RuleIds.length > MAX_RULE_IDS) throw invalidParameterValue('RuleIds', `at most ${MAX_RULE_IDS} ids`);
    if (input.RuleIds.length === 0) return { TotalCount: 0, RuleSet: [] };
    const { items } = await ctx.tx.list<RuleData>(KIND.rule, { ids: [...new Set(input.RuleIds)] });
    const live = [];
    for (const r of items) {
      const listener = await ctx.tx.get<L7ListenerData>(KIND.listener, r.data.ListenerId);
      if (listener) live.push(ruleInfo(r.data, listener.data));
    }
    return { TotalCount: live.length, RuleSet: live };
  },

  BindRuleRealServers: async (input: BindRuleRealServersRequest, ctx) => {
    const rule = await getRule(ctx, input.RuleId);
    const listener = await getL7Listener(ctx, rule.data.ListenerId);
    await guardListener(ctx, listener, { proxy: 'FailedOperation.InstanceStatusNotInRuning', group: 'FailedOperation.GroupStatusNotInRuning' });
    const domain = await ctx.tx.get<L7DomainData>(KIND.domain, domainKey(rule.data.ListenerId, rule.data.Domain));
    if (domain) assertDomainIdle(domain);
    assertRuleIdle(rule);
    const set = await checkBindSet(ctx.tx, input.RealServerBindSet, {
      realServerType: rule.data.RealServerType, addressMismatch: 'InvalidParameterValue.RealServerNotBelong',
    });
    await putRule(ctx.tx, { ...rule, data: { ...rule.data, RealServerSet: set, BindStatus: 1, RuleStatus: RULE_BINDING } });
    await ctx.later(T.settled, { ruleId: rule.id });
    return {};
  },

  DescribeRuleRealServers: async (input: DescribeRuleRealServersRequest, ctx) => {
    const rule = await getRule(ctx, input.RuleId);
    const { offset, limit } = paging(input, { maxLimit: 1000 });
    const all = await ctx.tx.list<RealServerData>(KIND.realServer);
    const bindable = all.items
      .filter((r) => realServerTypeOf(r.data) === rule.data.RealServerType)
      .map((r) => realServerView(r.data));
    return {
      TotalCount: bindable.length,
      RealServerSet: bindable.slice(offset, offset + limit),
      BindRealServerTotalCount: rule.data.RealServerSet.length,
      BindRealServerSet: rule.data.RealServerSet,
    };
  },

  CreateCustomHeader: async (input: CreateCustomHeaderRequest, ctx) => {
    const rule = await getRule(ctx, input.RuleId);
    const listener = await getL7Listener(ctx, rule.data.ListenerId, 'FailedOperation.InvalidListenerProtocol');
    await guardListener(ctx, listener, { proxy: 'FailedOperation.InstanceStatusNotInRuning', group: 'FailedOperation.GroupStatusNotInRuning' });
    assertRuleIdle(rule);
    const headers = input.Headers ?? [];
    if (headers.length > MAX_HEADERS) throw new ApiError('LimitExceeded', `A rule has at most ${MAX_HEADERS} custom headers.`);
    for (const h of headers) {
      if (!HEADER_NAME.test(h.HeaderName)) throw invalidParameterValue('Headers.HeaderName', `\`${h.HeaderName}\` is not a header name`);
      if (isBlackHeader(h.HeaderName)) throw new ApiError('InvalidParameterValue.HitBlacklist', `The header \`${h.HeaderName}\` is on the black list (DescribeBlackHeader) and cannot be set.`);
    }
    const stored = headers.map((h) => ({ HeaderName: h.HeaderName, HeaderValue: h.HeaderValue }));
    await ctx.tx.put({ ...rule, data: { ...rule.data, Headers: stored } });
    return {};
  },

  DescribeCustomHeader: async (input: DescribeCustomHeaderRequest, ctx) => {
    const rule = await getRule(ctx, input.RuleId);
    return { RuleId: rule.id, Headers: rule.data.Headers ?? [] };
  },
} satisfies HandlerPart<GaapActions>;

export const transitions: Record<string, TransitionHandler> = {
  [T.settled]: async (p: { ruleId: string }, tx) => {
    const rec = await tx.get<RuleData>(KIND.rule, p.ruleId);
    if (rec && [RULE_CREATING, RULE_BINDING, RULE_CHANGING].includes(rec.data.RuleStatus)) {
      await putRule(tx, { ...rec, data: { ...rec.data, RuleStatus: RULE_RUNNING } });
    }
  },
  [T.removed]: async (p: { ruleId: string }, tx) => {
    const rec = await tx.get<RuleData>(KIND.rule, p.ruleId);
    if (rec && rec.data.RuleStatus === RULE_DELETING) await tx.delete(KIND.rule, p.ruleId);
  },
};

/** Rules are looked up by domain, and L7 records by listener (also when a proxy goes away). */
export function prepare(store: { ensureFieldIndex(kind: string, field: string): void }): void {
  store.ensureFieldIndex(KIND.rule, 'DomainKey');
  for (const kind of [KIND.rule, KIND.domain, KIND.errorPage]) store.ensureFieldIndex(kind, 'ListenerId');
}
