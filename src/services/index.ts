import type { Logger } from 'pino';
import type { Config } from '../config';
import type { OutboundGuard } from '../core/outbound';
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

/** Every API 3.0 product tclocal emulates; `outbound` carries their callbacks. */
export function serviceModules(outbound?: OutboundGuard): ServiceModule[] {
  return [gaapService(), sslService(), amsService(outbound), tagService()];
}

export interface ProtocolDeps {
  store: Store;
  accounts: Accounts;
  log: Logger;
  config: Config;
  transitions: TransitionEngine;
  outbound: OutboundGuard;
}

/** Products with a wire protocol of their own (COS-style XML). */
export function extraProtocols(deps: ProtocolDeps): ExtraProtocol[] {
  return [...ciProtocol(deps)];
}
