import { resourceNotFound } from '../../../core/errors';
import type { ProxyGroupDetail } from '../../../spec/gaap.types';
import type { ResourceRecord, StoreTx } from '../../../store/types';
import { KIND } from '../kinds';

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

export async function getGroup(tx: StoreTx, groupId: string): Promise<ResourceRecord<GroupData>> {
  const g = await tx.get<GroupData>(KIND.group, groupId);
  if (!g) throw resourceNotFound('proxy group', groupId);
  return g;
}

/** Keyed-value namespace of each group's nearest-access configuration (region → country codes). */
export const DOMAIN_CONF_NS = 'gaap.groupDomainConfig';
