import type { BrowseKind } from '../browse';
import { KIND } from './model';

/** SSL certificates as the console shows them (Status is the API's number: 0 reviewing, 1 issued, ...). */
export const sslBrowse: readonly BrowseKind[] = [
  {
    kind: KIND, service: 'ssl', title: 'SSL certificates', nameField: 'Alias',
    columns: ['Domain', 'Alias', 'Status', 'CertificateType', 'PackageType', 'From'], searchFields: ['Domain', 'Alias'],
  },
];
