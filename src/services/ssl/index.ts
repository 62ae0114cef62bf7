import { integer, type SettingValues } from '../../core/settings';
import spec from '../../spec/ssl.json';
import type { ServiceSpec } from '../../spec/types';
import type { SslActions } from '../../spec/ssl.types';
import { composeHandlers, type ServiceDefinition } from '../types';
import { sslBrowse } from './browse';
import * as certificates from './certificates';
import * as review from './review';

const settings = {
  sslReviewMs: {
    flag: '--ssl-review-ms', env: 'TCLOCAL_SSL_REVIEW_MS', arg: 'MS', default: '30000',
    help: 'SSL: time a free certificate spends under review before it is issued on its own.', parse: integer(0, 86_400_000),
  },
};

declare module '../../core/service' {
  interface ServiceSettings extends SettingValues<typeof settings> {}
}

/** SSL Certificates, API 2019-12-05. */
export const sslService: ServiceDefinition = {
  name: 'ssl',
  settings,
  create: () => ({
    spec: spec as ServiceSpec,
    handlers: composeHandlers<SslActions>()(certificates.handlers, review.handlers),
    transitions: { ...review.transitions },
    browse: sslBrowse,
    prepare: certificates.prepare,
  }),
};
