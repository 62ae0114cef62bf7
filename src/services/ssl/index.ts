import spec from '../../spec/ssl.json';
import type { ServiceSpec } from '../../spec/types';
import type { SslActions } from '../../spec/ssl.types';
import { composeHandlers, type ServiceModule } from '../types';
import * as certificates from './certificates';
import * as review from './review';

/** SSL Certificates, API 2019-12-05. */
export function sslService(): ServiceModule {
  return {
    spec: spec as ServiceSpec,
    handlers: composeHandlers<SslActions>()(certificates.handlers, review.handlers),
    transitions: { ...review.transitions },
    prepare: certificates.prepare,
  };
}
