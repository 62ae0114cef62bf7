import type { OutboundGuard } from '../../core/outbound';
import spec from '../../spec/ams.json';
import type { ServiceSpec } from '../../spec/types';
import type { AmsActions } from '../../spec/ams.types';
import { composeHandlers, type ServiceModule } from '../types';
import { CallbackOutbox } from './callbacks';
import { taskModule } from './tasks';

/** Audio Moderation System, API 2020-12-29. */
export function amsService(outbound?: OutboundGuard): ServiceModule {
  const tasks = taskModule(new CallbackOutbox(outbound));
  return { spec: spec as ServiceSpec, handlers: composeHandlers<AmsActions>()(tasks.handlers), transitions: tasks.transitions, prepare: tasks.prepare };
}
