import { isIP } from 'node:net';
import { ApiError, invalidParameterValue } from '../../../core/errors';
import type { BindRealServer, RealServer, RealServerBindSetReq, TagPair } from '../../../spec/gaap.types';
import type { StoreTx } from '../../../store/types';
import { checkEnum, checkInteger, checkPort } from '../../kit/checks';
import { KIND } from '../kinds';
import type { ListenerData } from '../listener/model';

/** Real servers (`gaap.realserver`): the record, its address rules, and where listeners and rules bind it. */

/** A real-server record: the API's RealServer plus its tags and address type. */
export interface RealServerData extends RealServer {
  TagSet: TagPair[];
  /** IP or DOMAIN, decided from the address when the real server is added. */
  RealServerType?: string;
}

/** The RealServer view of a real-server record (what listeners and rules can bind). */
export const realServerView = (rs: RealServerData): RealServer => ({
  RealServerIP: rs.RealServerIP,
  RealServerId: rs.RealServerId,
  RealServerName: rs.RealServerName,
  ProjectId: rs.ProjectId,
  InBanBlacklist: rs.InBanBlacklist ?? 0,
});

const DOMAIN = /^(?=.{1,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z][a-z0-9-]{0,61}[a-z0-9]$/i;

/** IP or DOMAIN for a real-server address; undefined when it is neither. */
export function addressType(address: string): 'IP' | 'DOMAIN' | undefined {
  if (isIP(address)) return 'IP';
  if (DOMAIN.test(address)) return 'DOMAIN';
  return undefined;
}

/** Where a real server is bound: one entry per listener or rule binding. */
export interface Binding {
  ListenerId: string;
  RuleId?: string;
  ProxyId: string | null;
  GroupId: string | null;
}

/** Every binding of the account's real servers, by real-server id (listeners and L7 rules). */
export async function bindingsByServer(tx: StoreTx): Promise<Map<string, Binding[]>> {
  const out = new Map<string, Binding[]>();
  const add = (rsId: string, b: Binding) => {
    const list = out.get(rsId);
    if (list) list.push(b);
    else out.set(rsId, [b]);
  };
  const listeners = new Map<string, ListenerData>();
  for (const { data } of (await tx.list<ListenerData>(KIND.listener)).items) {
    listeners.set(data.ListenerId, data);
    for (const s of (data.RealServerSet as BindRealServer[] | undefined) ?? []) {
      add(s.RealServerId, { ListenerId: data.ListenerId, ProxyId: data.ProxyId, GroupId: data.GroupId });
    }
  }
  for (const rule of (await tx.list<Record<string, unknown>>(KIND.rule)).items) {
    const set = rule.data.RealServerSet;
    if (!Array.isArray(set) || set.length === 0) continue;
    const listenerId = String(rule.data.ListenerId ?? rule.parent ?? '');
    const l = listeners.get(listenerId);
    for (const s of set as Array<{ RealServerId?: string }>) {
      if (!s?.RealServerId) continue;
      add(s.RealServerId, { ListenerId: listenerId, RuleId: rule.id, ProxyId: l?.ProxyId ?? null, GroupId: l?.GroupId ?? null });
    }
  }
  return out;
}

/** IP or DOMAIN: what a real server was recorded as, else what its address looks like. */
export const realServerTypeOf = (rs: RealServerData): string => rs.RealServerType ?? addressType(rs.RealServerIP) ?? 'IP';

/** Real-server addresses compare without surrounding spaces and case (domain names). */
export const addressKey = (address: string): string => address.trim().toLowerCase();

/** What a real-server binding may be bound as, and the codes its action documents where they differ. */
export interface BindRules {
  /** IP or DOMAIN: the listener's or rule's real-server type. */
  realServerType: string;
  /** The code for an address that is not the real server's (InvalidParameterValue for listeners, RealServerNotBelong for rules). */
  addressMismatch: string;
  /** At most this many real servers, when the action documents FailedOperation.LimitRealServerNum. */
  limit?: number;
}

/**
 * The real servers to bind to a listener or a rule, checked as one: each must
 * be the account's, be given with its own address, not be banned, match the
 * real-server type, and come with a usable port, a weight of 1 to 100 and an
 * empty, `master` or `slave` role; an id and port at most once.
 */
export async function checkBindSet(tx: StoreTx, wanted: RealServerBindSetReq[] | undefined, rules: BindRules): Promise<BindRealServer[]> {
  const list = wanted ?? [];
  if (rules.limit !== undefined && list.length > rules.limit) {
    throw new ApiError('FailedOperation.LimitRealServerNum', `At most ${rules.limit} real servers may be bound; \`RealServerBindSet\` has ${list.length}.`);
  }
  const set: BindRealServer[] = [];
  const seen = new Set<string>();
  for (let i = 0; i < list.length; i++) {
    const w = list[i];
    const name = `RealServerBindSet.${i}`;
    const rs = await tx.get<RealServerData>(KIND.realServer, w.RealServerId);
    if (!rs) throw new ApiError('InvalidParameterValue.RealServerNotBelong', `The real server \`${w.RealServerId}\` does not belong to the account.`);
    if (addressKey(String(w.RealServerIP ?? '')) !== addressKey(rs.data.RealServerIP)) {
      throw invalidParameterValue(`${name}.RealServerIP`, `the real server \`${w.RealServerId}\` has the address \`${rs.data.RealServerIP}\`, not \`${w.RealServerIP}\``, rules.addressMismatch);
    }
    if (rs.data.InBanBlacklist === 1) throw new ApiError('InvalidParameterValue.HitBanBlacklist', `The real server \`${w.RealServerId}\` is banned.`);
    const type = realServerTypeOf(rs.data);
    if (type !== rules.realServerType) {
      throw invalidParameterValue(`${name}.RealServerId`, `the real server \`${w.RealServerId}\` is of type ${type} but ${rules.realServerType} real servers are bound here`);
    }
    checkPort(`${name}.RealServerPort`, w.RealServerPort);
    const weight = w.RealServerWeight ?? 1;
    checkInteger(`${name}.RealServerWeight`, weight, 1, 100);
    const role = w.RealServerFailoverRole ?? '';
    checkEnum(`${name}.RealServerFailoverRole`, role, ['', 'master', 'slave']);
    const key = `${w.RealServerId}:${w.RealServerPort}`;
    if (seen.has(key)) throw invalidParameterValue(name, `the real server \`${w.RealServerId}\` is given twice with port ${w.RealServerPort}`);
    seen.add(key);
    set.push({ RealServerId: w.RealServerId, RealServerIP: rs.data.RealServerIP, RealServerWeight: weight, RealServerStatus: 0, RealServerPort: w.RealServerPort, DownIPList: [], RealServerFailoverRole: role });
  }
  return set;
}
