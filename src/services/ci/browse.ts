import type { BrowseKind } from '../browse';
import { JOB_KIND } from './jobs';

/** Cloud Infinite live-moderation jobs as the console shows them (a job's parent is its bucket). */
export const ciBrowse: readonly BrowseKind[] = [
  {
    kind: JOB_KIND, service: 'ci', title: 'Live moderation jobs',
    columns: ['State', 'Bucket', 'Region', 'BizType', 'Url', 'CreationTime'], searchFields: ['Bucket', 'Url', 'DataId'],
  },
];
