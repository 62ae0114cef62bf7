import { integer, type SettingValues } from '../../core/settings';
import spec from '../../spec/gaap.json';
import type { ServiceSpec } from '../../spec/types';
import type { Store } from '../../store/types';
import type { GaapActions } from '../../spec/gaap.types';
import { composeHandlers, type ServiceDefinition, type TransitionHandler } from '../types';
import { gaapBrowse } from './browse';
import { gaapDnsView } from './dns-view';
import { trafficSink } from './forwarding';
import * as catalogue from './catalogue';
import * as certificates from './certificates';
import * as domains from './domains';
import * as globaldomains from './globaldomains';
import * as groups from './groups';
import * as listeners from './listeners';
import * as proxies from './proxies';
import * as realservers from './realservers';
import * as rules from './rules';
import * as security from './security';
import * as statistics from './statistics';
import * as tags from './tags';
import * as tasks from './tasks';

/** One module per resource; each exports its action handlers and scheduled transitions. */
const PARTS: Array<{ transitions?: Record<string, TransitionHandler>; prepare?: (store: Store) => void }> = [
  catalogue, certificates, domains, globaldomains, groups, listeners, proxies, realservers, rules, security, statistics, tags,
];

/** Every GAAP action has exactly one handler, typed by its request and response (checked when this compiles). */
const handlers = composeHandlers<GaapActions>()(
  catalogue.handlers, certificates.handlers, domains.handlers, globaldomains.handlers, groups.handlers, listeners.handlers, proxies.handlers,
  realservers.handlers, rules.handlers, security.handlers, statistics.handlers, tags.handlers, tasks.handlers,
);

const settings = {
  gaapCreateTimeBackdate: {
    flag: '--gaap-create-time-backdate', env: 'TCLOCAL_GAAP_CREATE_TIME_BACKDATE', arg: 'S', default: '0',
    help: 'GAAP: report a new proxy\'s CreateTime this many seconds in the past (Terraform waits until CreateTime + 2 min before destroying a proxy).',
    parse: integer(0, 31_536_000),
  },
};

declare module '../../core/service' {
  interface ServiceSettings extends SettingValues<typeof settings> {
    /** The data plane's address pool (a server setting), from which proxies draw their IP. */
    dataplanePool: string;
  }
}

/** GAAP (Global Application Acceleration), API 2018-05-29. */
export const gaapService: ServiceDefinition = {
  name: 'gaap',
  settings,
  create: () => {
    const transitions: Record<string, TransitionHandler> = {};
    for (const part of PARTS) Object.assign(transitions, part.transitions ?? {});
    transitions.task = tasks.taskTransition(transitions);
    return {
      spec: spec as ServiceSpec,
      handlers,
      transitions,
      browse: gaapBrowse,
      prepare: (store: Store) => PARTS.forEach((p) => p.prepare?.(store)),
      // What the DNS server and the data plane read of GAAP.
      provides: { dnsView: gaapDnsView, trafficSink },
    };
  },
};
