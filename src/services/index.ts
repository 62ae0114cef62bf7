import type { Logger } from 'pino';
import type { Config } from '../config';
import type { OutboundGuard } from '../core/outbound';
import type { TransitionEngine } from '../core/transitions';
import type { Accounts } from '../gateway/accounts';
import type { ExtraProtocol } from '../gateway/http';
import type { FaultPlan } from '../gateway/observe';
import type { Store } from '../store/types';
import { amsService } from './ams';
import { amsBrowse } from './ams/browse';
import type { BrowseKind } from './browse';
import { ciBrowse } from './ci/browse';
import { gaapBrowse } from './gaap/browse';
import { sslBrowse } from './ssl/browse';
import { ciProtocol } from './ci';
import { gaapService } from './gaap';
import { taggableResources as gaapTaggable } from './gaap/tag/model';
import { sslService } from './ssl';
import { tagService } from './tag';
import type { ServiceModule } from './types';

/** Every API 3.0 product tclocal emulates; `outbound` carries their callbacks. */
export function serviceModules(outbound?: OutboundGuard): ServiceModule[] {
  return [gaapService(), sslService(), amsService(outbound), tagService(gaapTaggable)];
}

export interface ProtocolDeps {
  store: Store;
  accounts: Accounts;
  log: Logger;
  config: Config;
  transitions: TransitionEngine;
  outbound: OutboundGuard;
  faults?: FaultPlan;
}

/** Products with a wire protocol of their own (COS-style XML). */
export function extraProtocols(deps: ProtocolDeps): ExtraProtocol[] {
  return [...ciProtocol(deps)];
}

/** Every kind of stored resource a person can browse, product by product. */
export function browsableKinds(): BrowseKind[] {
  return [...gaapBrowse, ...sslBrowse, ...amsBrowse, ...ciBrowse];
}
