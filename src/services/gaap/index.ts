import { integer, type SettingValues } from '../../core/settings';
import spec from '../../spec/gaap.json';
import type { ServiceSpec } from '../../spec/types';
import type { Store } from '../../store/types';
import type { GaapActions } from '../../spec/gaap.types';
import { composeHandlers, type ServiceDefinition, type TransitionHandler } from '../types';
import { gaapBrowse } from './browse';
import { gaapDnsView } from './dns-view';
import { trafficSink } from './forwarding';
import * as catalogue from './catalogue/handlers';
import * as certificates from './certificate/handlers';
import * as domains from './l7/domains';
import * as globaldomains from './globaldomain/handlers';
import * as groups from './group/handlers';
import * as listeners from './listener/handlers';
import * as proxies from './proxy/handlers';
import * as realservers from './realserver/handlers';
import * as rules from './l7/rules';
import * as security from './security/handlers';
import * as statistics from './stats/handlers';
import * as tags from './tag/handlers';
import * as tasks from './task/handlers';
import { taskTransition } from './task/model';

/** One module per resource; each exports its action handlers and scheduled transitions. */
const PARTS: Array<{ transitions?: Record<string, TransitionHandler>; prepare?: (store: Store) => void }> = [
  catalogue, certificates, domains, globaldomains, groups, listeners, proxies, realservers, rules, security, statistics, tags,
];

/** Earlier names of transitions → their names now (every name is `<resource>.<what happened>`). */
const RENAMED_TRANSITIONS: Record<string, string> = {
  listenerSettle: 'listener.settled',
  listenerRemove: 'listener.removed',
  'l7.domainSettle': 'l7Domain.settled',
  'l7.domainRemove': 'l7Domain.removed',
  'l7.ruleSettle': 'rule.settled',
  'l7.ruleRemove': 'rule.removed',
  globalDomainStatus: 'globalDomain.settled',
  globalDnsStatus: 'globalDns.settled',
};

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
    // Transitions scheduled under their earlier names (in a durable store from an older version) still run.
    for (const [old, now] of Object.entries(RENAMED_TRANSITIONS)) transitions[old] = transitions[now];
    transitions.task = taskTransition(transitions);
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
