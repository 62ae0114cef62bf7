import type { BrowseKind } from '../browse';
import { KIND } from './model';

/** AMS moderation tasks as the console shows them. */
export const amsBrowse: readonly BrowseKind[] = [
  {
    kind: KIND, service: 'ams', title: 'Moderation tasks', nameField: 'Name',
    columns: ['Name', 'Status', 'Type', 'Suggestion', 'BizType', 'DataId'], searchFields: ['Name', 'DataId', 'Url'],
  },
];
