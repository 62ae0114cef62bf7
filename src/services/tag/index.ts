import { createHash } from 'node:crypto';
import { ApiError } from '../../core/errors';
import spec from '../../spec/tag.json';
import type { ServiceSpec } from '../../spec/types';
import type { DescribeResourceTagsByResourceIdsRequest, ModifyResourceTagsRequest, TagActions, TagResource } from '../../spec/tag.types';
import { paging } from '../kit/paging';
import type { TaggableResource } from '../kit/taggable';
import { checkTag, checkTagCount, type TagCodes } from '../kit/tags';
import { composeHandlers, type ServiceDefinition } from '../types';

/** The codes ModifyResourceTags documents, one per fault. */
const TAG_CODES: TagCodes = {
  invalid: 'InvalidParameterValue',
  emptyKey: 'InvalidParameterValue.TagKeyEmpty',
  keyLength: 'InvalidParameterValue.TagKeyLengthExceeded',
  valueLength: 'InvalidParameterValue.TagValueLengthExceeded',
  quota: 'LimitExceeded.TagNumPerResource',
};

const RESOURCE = /^qcs::([a-z0-9]+):([^:]*):uin\/(\d*):([A-Za-z]+)\/(.+)$/;

/** Finds the registered resource kind of a six-part name's service and prefix. */
function registry(resources: readonly TaggableResource[]): (service: string, prefix: string) => TaggableResource | undefined {
  const byName = new Map<string, TaggableResource>();
  for (const r of resources) for (const p of r.prefixes) byName.set(`${r.service}:${p}`, r);
  return (service, prefix) => byName.get(`${service}:${prefix}`);
}

/** The Tag API (2018-08-13) calls that tools make for tagged resources. */
/** The Tag API (2018-08-13) calls that tools make for tagged resources, over the resource kinds the products register. */
export function tagService(resources: readonly TaggableResource[]): ServiceDefinition {
  const find = registry(resources);
  return {
  name: 'tag',
  create: () => ({
    spec: spec as ServiceSpec,
    handlers: composeHandlers<TagActions>()({
      ModifyResourceTags: async (input: ModifyResourceTagsRequest, ctx) => {
        const m = RESOURCE.exec(input.Resource);
        if (!m) throw new ApiError('InvalidParameterValue.ResourceDescriptionError', `The resource \`${input.Resource}\` is not a six-part resource name (qcs::service:region:uin/:prefix/id).`);
        const [, service, , , prefix, id] = m;
        const kind = find(service, prefix);
        if (!kind) throw new ApiError('InvalidParameterValue.ResourceDescriptionError', `${input.Resource}: tclocal does not keep tags for \`${service}:${prefix}\`.`);
        const current = await kind.tags(ctx.tx, id);
        if (!current) throw new ApiError('ResourceNotFound', `The resource \`${input.Resource}\` does not exist.`);
        const tags = new Map(current.map((t) => [t.TagKey, t.TagValue]));
        for (const d of input.DeleteTags ?? []) tags.delete(d.TagKey);
        for (const t of input.ReplaceTags ?? []) {
          const tag = checkTag(t, TAG_CODES, 'ReplaceTags');
          tags.set(tag.TagKey, tag.TagValue);
        }
        checkTagCount(tags.size, TAG_CODES, `the resource \`${input.Resource}\``);
        await kind.setTags(ctx.tx, id, [...tags].map(([TagKey, TagValue]) => ({ TagKey, TagValue })));
        return {};
      },
      DescribeResourceTagsByResourceIds: async (input: DescribeResourceTagsByResourceIdsRequest, ctx) => {
        const { offset, limit } = paging(input, { defaultLimit: 15, minLimit: 1, maxLimit: 1000 });
        // Resources tclocal keeps no tags for simply have none.
        const kind = find(input.ServiceType, input.ResourcePrefix);
        const all: TagResource[] = [];
        for (const resourceId of kind ? input.ResourceIds : []) {
          for (const t of (await kind!.tags(ctx.tx, resourceId)) ?? []) {
            all.push({ TagKey: t.TagKey, TagValue: t.TagValue, ResourceId: resourceId, TagKeyMd5: md5(t.TagKey), TagValueMd5: md5(t.TagValue), ServiceType: input.ServiceType, Category: 'Custom' });
          }
        }
        return { TotalCount: all.length, Offset: offset, Limit: limit, Tags: all.slice(offset, offset + limit) };
      },
    }),
  }),
  };
}

const md5 = (s: string) => createHash('md5').update(s).digest('hex');
