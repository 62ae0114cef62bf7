export type { BrowseKind, BrowseLink } from '../core/browse';
