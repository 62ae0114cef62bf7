import type { StoreTx } from '../../store/types';
import type { Tag } from './tags';

/**
 * A kind of resource whose tags the Tag API reads and edits, as its product
 * registers it: the Tag service knows the six-part names
 * (`qcs::<service>:<region>:uin/<uin>:<prefix>/<id>`), the product knows
 * where the tags live (on the resource itself, so its own Describe calls show
 * them).
 */
export interface TaggableResource {
  /** Service of the six-part name (`gaap`). */
  service: string;
  /** Resource prefixes of the six-part name that name this kind (`proxy`, `proxyGroup`, ...). */
  prefixes: readonly string[];
  /** The resource's tags; undefined when it does not exist. `id` is as the caller wrote it. */
  tags(tx: StoreTx, id: string): Promise<Tag[] | undefined>;
  /** Replaces the tags of an existing resource. */
  setTags(tx: StoreTx, id: string, tags: Tag[]): Promise<void>;
}
