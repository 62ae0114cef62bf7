import type { Logger } from 'pino';
import type { Config } from '../config';
import type { TransitionEngine } from '../core/transitions';
import type { Accounts } from '../gateway/accounts';
import type { ExtraProtocol } from '../gateway/http';
import type { Store } from '../store/types';
import { amsService } from './ams';
import { ciProtocol } from './ci';
import { gaapService } from './gaap';
import { sslService } from './ssl';
import { tagService } from './tag';
import type { ServiceModule } from './types';

/** Every API 3.0 product tclocal emulates. */
export function serviceModules(): ServiceModule[] {
  return [gaapService(), sslService(), amsService(), tagService()];
}

export interface ProtocolDeps {
  store: Store;
  accounts: Accounts;
  log: Logger;
  config: Config;
  transitions: TransitionEngine;
}

/** Products with a wire protocol of their own (COS-style XML). */
export function extraProtocols(deps: ProtocolDeps): ExtraProtocol[] {
  return [...ciProtocol(deps)];
}
