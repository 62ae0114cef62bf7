import { resourceNotFound } from '../../../core/errors';
import type { ProxyGroupDetail } from '../../../spec/gaap.types';
import type { ResourceRecord, StoreTx } from '../../../store/types';
import { lifecycle } from '../../kit/lifecycle';
import { KIND } from '../kinds';
import { startTask } from '../task/model';

/** Proxy groups (`gaap.group`): the record, its status codes and its keyed nearest-access configuration. */

/** Proxy-group statuses: the string of ProxyGroupInfo (kept in the record's status column) and the integer of ProxyGroupDetail. */
export const GROUP_STATUS_CODE: Record<string, number> = {
  RUNNING: 0,
  CREATING: 1,
  // CLOSED has no documented integer; 2 is the value tclocal answers.
  CLOSED: 2,
  DESTROYING: 4,
  MOVING: 11,
  CHANGING: 12,
};

/**
 * A group record's data: ProxyGroupDetail (`Status` the integer code, ProxyNum
 * as last derived) plus the region it accelerates to, which ProxyGroupDetail
 * carries only as RealServerRegionInfo.
 */
export type GroupData = ProxyGroupDetail & { RealServerRegion: string };

/**
 * A group's statuses: the string in the status column, the integer code in
 * ProxyGroupDetail.Status. While it is being created or deleted no other
 * operation may start on it (CHANGING, derived from its proxies, does not
 * stop one).
 */
export const groupLife = lifecycle<string, GroupData, string>({
  noun: 'proxy group',
  statuses: Object.keys(GROUP_STATUS_CODE),
  busy: ['CREATING', 'DESTROYING'],
  read: (rec) => rec.status ?? 'RUNNING',
  write: (data, status) => ({ ...data, Status: GROUP_STATUS_CODE[status] ?? 0 }),
  column: (status) => status,
  schedule: (ctx, transition, payload) => startTask(ctx, transition, payload),
});

export async function getGroup(tx: StoreTx, groupId: string): Promise<ResourceRecord<GroupData>> {
  const g = await tx.get<GroupData>(KIND.group, groupId);
  if (!g) throw resourceNotFound('proxy group', groupId);
  return g;
}

/** Keyed-value namespace of each group's nearest-access configuration (region → country codes). */
export const DOMAIN_CONF_NS = 'gaap.groupDomainConfig';
