import { ApiError } from '../../core/errors';

/** A tag as resources keep it in their data's TagSet. */
export interface Tag {
  TagKey: string;
  TagValue: string;
}

/** The error codes one action documents for bad tags. */
export interface TagCodes {
  /** Empty key, too long a key or value, a key given twice. */
  invalid: string;
  /** More tags than one resource may carry. */
  quota: string;
  /** Empty key, when the action documents a code of its own for it. */
  emptyKey?: string;
  /** Too long a key, when the action documents a code of its own for it. */
  keyLength?: string;
  /** Too long a value, when the action documents a code of its own for it. */
  valueLength?: string;
}

/** Tags per resource, as for other Tencent Cloud resources. */
export const MAX_TAGS = 50;
const MAX_KEY = 127;
const MAX_VALUE = 255;

/** One tag: a key of 1 to 127 characters (surrounding spaces dropped), a value of at most 255. */
export function checkTag(t: { TagKey?: string; TagValue?: string }, codes: TagCodes, param = 'TagSet'): Tag {
  const key = (t.TagKey ?? '').trim();
  const value = t.TagValue ?? '';
  if (!key) throw new ApiError(codes.emptyKey ?? codes.invalid, `A tag key in \`${param}\` is empty.`);
  if (key.length > MAX_KEY) throw new ApiError(codes.keyLength ?? codes.invalid, `The tag key \`${key.slice(0, 20)}…\` in \`${param}\` is longer than ${MAX_KEY} characters.`);
  if (value.length > MAX_VALUE) throw new ApiError(codes.valueLength ?? codes.invalid, `The value of tag \`${key}\` in \`${param}\` is longer than ${MAX_VALUE} characters.`);
  return { TagKey: key, TagValue: value };
}

/** At most MAX_TAGS tags on one resource. */
export function checkTagCount(n: number, codes: Pick<TagCodes, 'quota'>, what = '`TagSet`'): void {
  if (n > MAX_TAGS) throw new ApiError(codes.quota, `At most ${MAX_TAGS} tags may be bound to one resource; ${what} has ${n}.`);
}

/** The TagSet given when a resource is created: each tag valid, no key twice, at most MAX_TAGS. */
export function checkTagSet(tags: ReadonlyArray<{ TagKey?: string; TagValue?: string }> | undefined, codes: TagCodes, param = 'TagSet'): Tag[] {
  const list = tags ?? [];
  checkTagCount(list.length, codes, `\`${param}\``);
  const seen = new Set<string>();
  const out: Tag[] = [];
  for (const t of list) {
    const tag = checkTag(t, codes, param);
    if (seen.has(tag.TagKey)) throw new ApiError(codes.invalid, `The tag key \`${tag.TagKey}\` appears more than once in \`${param}\`.`);
    seen.add(tag.TagKey);
    out.push(tag);
  }
  return out;
}

/** True when a record's data carries the tag in its TagSet (read defensively: any resource may be asked). */
export function hasTag(data: unknown, key: string, value: string): boolean {
  const set = (data as { TagSet?: unknown } | null)?.TagSet;
  return Array.isArray(set) && set.some((t) => t && (t as Tag).TagKey === key && (t as Tag).TagValue === value);
}

/**
 * A TagSet used as a filter: at most `max` tags (a resource matches when it
 * carries any of them); none means no filter. `emptyKeyCode`, when the
 * action documents one, refuses an empty key.
 */
export function checkTagFilter(tags: Tag[] | undefined, opts: { max?: number; emptyKeyCode?: string } = {}): Tag[] | undefined {
  const { max = 5, emptyKeyCode } = opts;
  if (!tags || tags.length === 0) return undefined;
  if (tags.length > max) throw new ApiError('InvalidParameterValue', `The value of parameter \`TagSet\` is not valid: at most ${max} tags may be given, got ${tags.length}.`);
  if (emptyKeyCode) for (const t of tags) if (!t.TagKey) throw new ApiError(emptyKeyCode, 'The value of parameter `TagSet.TagKey` is not valid: a tag key may not be empty.');
  return tags;
}

/** True when the record data's TagSet carries any of `tags` (key and value both match). */
export const hasAnyTag = (data: unknown, tags: Tag[]): boolean => tags.some((t) => hasTag(data, t.TagKey, t.TagValue));
