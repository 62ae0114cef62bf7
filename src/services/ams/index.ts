import spec from '../../spec/ams.json';
import type { ServiceSpec } from '../../spec/types';
import type { ServiceModule } from '../types';

export function amsService(): ServiceModule {
  return { spec: spec as ServiceSpec, handlers: {}, transitions: {} };
}
