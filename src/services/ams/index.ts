import { integer, type SettingValues } from '../../core/settings';
import spec from '../../spec/ams.json';
import type { ServiceSpec } from '../../spec/types';
import type { AmsActions } from '../../spec/ams.types';
import { composeHandlers, type ServiceDefinition } from '../types';
import { amsBrowse } from './browse';
import { CallbackOutbox } from './callbacks';
import { taskModule } from './tasks';

const settings = {
  amsAudioMs: {
    flag: '--ams-audio-ms', env: 'TCLOCAL_AMS_AUDIO_MS', arg: 'MS', default: '', defaultLabel: '(empty: the PENDING time)',
    help: 'AMS: time an on-demand audio task stays RUNNING (empty: as long as it stayed PENDING).',
    parse: (raw: string, name: string): number | null => (raw.trim() === '' ? null : integer(0, 86_400_000)(raw.trim(), name)),
  },
};

declare module '../../core/service' {
  interface ServiceSettings extends SettingValues<typeof settings> {}
}

/** Audio Moderation System, API 2020-12-29. */
export const amsService: ServiceDefinition = {
  name: 'ams',
  settings,
  create: ({ outbound }) => {
    const tasks = taskModule(new CallbackOutbox(outbound));
    return {
      spec: spec as ServiceSpec,
      handlers: composeHandlers<AmsActions>()(tasks.handlers),
      transitions: tasks.transitions,
      browse: amsBrowse,
      prepare: tasks.prepare,
    };
  },
};
