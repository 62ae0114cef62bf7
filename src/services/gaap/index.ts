import spec from '../../spec/gaap.json';
import type { ServiceSpec } from '../../spec/types';
import type { ServiceModule } from '../types';
import { catalogueHandlers } from './catalogue';

/** GAAP (Global Application Acceleration), API 2018-05-29. */
export function gaapService(): ServiceModule {
  return {
    spec: spec as ServiceSpec,
    handlers: {
      ...catalogueHandlers,
    },
  };
}
