import type { StoreTx } from '../../../store/types';
import type { TaggableResource } from '../../kit/taggable';
import type { Tag, TagCodes } from '../../kit/tags';
import { KIND } from '../kinds';

/** GAAP's tag-carrying resources: their names in DescribeResourcesByTag and the codes their TagSet checks answer. */

export const TAG_RESOURCE = { proxy: 'Proxy', group: 'ProxyGroup', realServer: 'RealServer', globalDomain: 'domain' } as const;

/** The codes GAAP's create actions document for a bad TagSet. */
export const TAG_CODES: TagCodes = { invalid: 'InvalidParameterValue.InvalidTags', quota: 'LimitExceeded.TagQuota' };

/** A resource id as Terraform writes it: global domains are `<projectId>#<domainId>`. */
const recordId = (id: string) => (id.includes('#') ? id.slice(id.lastIndexOf('#') + 1) : id);

/** GAAP resources carry their tags in their records' TagSet; the Tag API reads and edits them there. */
function taggable(kind: string, prefixes: string[]): TaggableResource {
  return {
    service: 'gaap',
    prefixes,
    async tags(tx: StoreTx, id: string) {
      const rec = await tx.get<{ TagSet?: Tag[] }>(kind, recordId(id));
      return rec ? rec.data.TagSet ?? [] : undefined;
    },
    async setTags(tx: StoreTx, id: string, tags: Tag[]) {
      const rec = await tx.get<{ TagSet?: Tag[] }>(kind, recordId(id));
      if (rec) await tx.put({ ...rec, data: { ...rec.data, TagSet: tags } });
    },
  };
}

/** The GAAP resources the Tag API edits, by the prefixes of their six-part names. */
export const taggableResources: TaggableResource[] = [
  taggable(KIND.proxy, ['proxy']),
  taggable(KIND.realServer, ['realServer']),
  taggable(KIND.globalDomain, ['domain']),
  taggable(KIND.group, ['group', 'proxyGroup']),
];
