import { invalidParameterValue } from '../../../core/errors';
import type { DescribeResourcesByTagRequest, GaapActions } from '../../../spec/gaap.types';
import type { HandlerOf, HandlerPart, TransitionHandler } from '../../types';
import { KIND } from '../kinds';
import { hasTag } from '../../kit/tags';
import { TAG_RESOURCE } from './model';

/**
 * DescribeResourcesByTag: proxies, groups, real servers and global domains
 * carrying the tag in their records' TagSet (where the Tag API edits it too).
 * Without ResourceType every type is listed (global domains as `domain`).
 */
const TYPES = [TAG_RESOURCE.proxy, TAG_RESOURCE.group, TAG_RESOURCE.realServer];

const DescribeResourcesByTag: HandlerOf<GaapActions, 'DescribeResourcesByTag'> = async (input: DescribeResourcesByTagRequest, ctx) => {
  const type = input.ResourceType || undefined;
  if (type !== undefined && !TYPES.includes(type as (typeof TYPES)[number])) {
    throw invalidParameterValue('ResourceType', `expected one of ${TYPES.join(', ')}`);
  }
  const tag = { TagKey: input.TagKey, TagValue: input.TagValue };
  const set: Array<{ ResourceType: string; ResourceId: string }> = [];
  const kinds: Array<[string, string]> = [
    [TAG_RESOURCE.proxy, KIND.proxy], [TAG_RESOURCE.group, KIND.group],
    [TAG_RESOURCE.realServer, KIND.realServer], [TAG_RESOURCE.globalDomain, KIND.globalDomain],
  ];
  for (const [t, kind] of kinds) {
    if (type && type !== t) continue;
    const { items } = await ctx.tx.list(kind, {});
    for (const r of items) if (hasTag(r.data, tag.TagKey, tag.TagValue)) set.push({ ResourceType: t, ResourceId: r.id });
  }
  return { TotalCount: set.length, ResourceSet: set };
};

export const handlers = { DescribeResourcesByTag } satisfies HandlerPart<GaapActions>;

export const transitions: Record<string, TransitionHandler> = {};

