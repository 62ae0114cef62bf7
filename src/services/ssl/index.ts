import spec from '../../spec/ssl.json';
import type { ServiceSpec } from '../../spec/types';
import type { ServiceModule } from '../types';

export function sslService(): ServiceModule {
  return { spec: spec as ServiceSpec, handlers: {}, transitions: {} };
}
