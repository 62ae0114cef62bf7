import { resourceNotFound } from '../../../core/errors';
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

export type GroupData = Record<string, unknown> & {
  GroupId: string;
  RealServerRegion: string;
  IPAddressVersion: string;
  PackageType: string;
  ProjectId: number;
};

export async function getGroup(tx: StoreTx, groupId: string): Promise<ResourceRecord<GroupData>> {
  const g = await tx.get<GroupData>(KIND.group, groupId);
  if (!g) throw resourceNotFound('proxy group', groupId);
  return g;
}

/** Keyed-value namespace of each group's nearest-access configuration (region → country codes). */
export const DOMAIN_CONF_NS = 'gaap.groupDomainConfig';
