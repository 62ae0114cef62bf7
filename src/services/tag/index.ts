import { createHash } from 'node:crypto';
import { ApiError } from '../../core/errors';
import spec from '../../spec/tag.json';
import type { ServiceSpec } from '../../spec/types';
import type { DescribeResourceTagsByResourceIdsRequest, ModifyResourceTagsRequest, Tag, TagActions, TagResource } from '../../spec/tag.types';
import { KIND as GAAP } from '../gaap/model';
import { composeHandlers, type ServiceDefinition } from '../types';

/** A tag as the resources keep it in data.TagSet. */
type TagPair = Pick<Tag, 'TagKey' | 'TagValue'>;

/**
 * Resources whose tags the Tag API edits, by service and resource prefix of
 * the six-part name `qcs::<service>:<region>:uin/<uin>:<prefix>/<id>`. The
 * tags live on the resource itself (data.TagSet), so the product's own
 * Describe calls show them.
 */
const TAGGABLE: Record<string, Record<string, string>> = {
  gaap: { proxy: GAAP.proxy, realServer: GAAP.realServer, domain: GAAP.globalDomain, group: GAAP.group, proxyGroup: GAAP.group },
};

const RESOURCE = /^qcs::([a-z0-9]+):([^:]*):uin\/(\d*):([A-Za-z]+)\/(.+)$/;

/** A resource id as Terraform writes it: global domains are `<projectId>#<domainId>`. */
const recordId = (id: string) => (id.includes('#') ? id.slice(id.lastIndexOf('#') + 1) : id);

function kindOf(service: string, prefix: string, what: string): string {
  const kind = TAGGABLE[service]?.[prefix];
  if (!kind) throw new ApiError('InvalidParameterValue.ResourceDescriptionError', `${what}: tclocal does not keep tags for \`${service}:${prefix}\`.`);
  return kind;
}

/** The Tag API (2018-08-13) calls that tools make for tagged resources. */
export const tagService: ServiceDefinition = {
  name: 'tag',
  create: () => ({
    spec: spec as ServiceSpec,
    handlers: composeHandlers<TagActions>()({
      ModifyResourceTags: async (input: ModifyResourceTagsRequest, ctx) => {
        const m = RESOURCE.exec(input.Resource);
        if (!m) throw new ApiError('InvalidParameterValue.ResourceDescriptionError', `The resource \`${input.Resource}\` is not a six-part resource name (qcs::service:region:uin/:prefix/id).`);
        const [, service, , , prefix, id] = m;
        const rec = await ctx.tx.get<{ TagSet?: TagPair[] }>(kindOf(service, prefix, input.Resource), recordId(id));
        if (!rec) throw new ApiError('ResourceNotFound', `The resource \`${input.Resource}\` does not exist.`);
        const tags = new Map((rec.data.TagSet ?? []).map((t) => [t.TagKey, t.TagValue]));
        for (const d of input.DeleteTags ?? []) tags.delete(d.TagKey);
        for (const t of input.ReplaceTags ?? []) {
          if (!t.TagKey) throw new ApiError('InvalidParameterValue.TagKeyEmpty', 'A tag key in `ReplaceTags` is empty.');
          if (t.TagKey.length > 127) throw new ApiError('InvalidParameterValue.TagKeyLengthExceeded', `The tag key \`${t.TagKey.slice(0, 20)}…\` is longer than 127 characters.`);
          if (t.TagValue.length > 255) throw new ApiError('InvalidParameterValue.TagValueLengthExceeded', `The value of tag \`${t.TagKey}\` is longer than 255 characters.`);
          tags.set(t.TagKey, t.TagValue);
        }
        if (tags.size > 50) throw new ApiError('LimitExceeded.TagNumPerResource', `The resource \`${input.Resource}\` would carry more than 50 tags.`);
        rec.data.TagSet = [...tags].map(([TagKey, TagValue]) => ({ TagKey, TagValue }));
        await ctx.tx.put(rec);
        return {};
      },
      DescribeResourceTagsByResourceIds: async (input: DescribeResourceTagsByResourceIdsRequest, ctx) => {
        const offset = input.Offset ?? 0;
        const limit = input.Limit ?? 15;
        if (offset < 0) throw new ApiError('InvalidParameterValue', 'The value of parameter `Offset` is not valid: it may not be negative.');
        if (limit < 1 || limit > 1000) throw new ApiError('InvalidParameterValue', 'The value of parameter `Limit` is not valid: expected 1 to 1000.');
        // Resources tclocal keeps no tags for simply have none.
        const kind = TAGGABLE[input.ServiceType]?.[input.ResourcePrefix];
        const all: TagResource[] = [];
        for (const resourceId of kind ? input.ResourceIds : []) {
          const rec = await ctx.tx.get<{ TagSet?: TagPair[] }>(kind, recordId(resourceId));
          for (const t of rec?.data.TagSet ?? []) {
            all.push({ TagKey: t.TagKey, TagValue: t.TagValue, ResourceId: resourceId, TagKeyMd5: md5(t.TagKey), TagValueMd5: md5(t.TagValue), ServiceType: input.ServiceType, Category: 'Custom' });
          }
        }
        return { TotalCount: all.length, Offset: offset, Limit: limit, Tags: all.slice(offset, offset + limit) };
      },
    }),
  }),
};

const md5 = (s: string) => createHash('md5').update(s).digest('hex');
