/**
 * How a product's stored resources are shown to a person browsing them (the
 * console): which kinds exist, their columns, their parents and the fields
 * that point at other resources. Products declare it next to their model;
 * readers list records through the store's own interface with it.
 */

/** A field holding the id of another resource. */
export interface BrowseLink {
  /** Dotted path in the record's data; arrays on the way are walked (`RealServerSet.RealServerId`). */
  path: string;
  kind: string;
}

export interface BrowseKind {
  /** Store kind (`gaap.proxy`). */
  kind: string;
  /** Product it belongs to (`gaap`, `ci`). */
  service: string;
  /** Plural, for headings. */
  title: string;
  /** Field holding a person's name for the resource, if any. */
  nameField?: string;
  /** Data fields shown in lists, in order. */
  columns: readonly string[];
  /** Data fields searched by the text filter besides the id. */
  searchFields: readonly string[];
  /** Kinds a record's `parent` may name. */
  parentKinds?: readonly string[];
  links?: readonly BrowseLink[];
}
