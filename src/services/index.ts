import type { SettingDef } from '../core/settings';
import { amsService } from './ams';
import { ciService } from './ci';
import { gaapService } from './gaap';
import { taggableResources as gaapTaggable } from './gaap/tag/model';
import { sslService } from './ssl';
import { tagService } from './tag';
import type { ModuleDeps, ServiceDefinition, ServiceModule } from '../core/service';

/** Every product tclocal emulates, in one list: the server builds them, the configuration reads their settings. */
export const SERVICES: readonly ServiceDefinition[] = [gaapService, sslService, amsService, tagService(gaapTaggable), ciService];

/** The products, built; `deps` carries what they use at run time (a module listed for its coverage needs none). */
export function serviceModules(deps: Partial<ModuleDeps> = {}): ServiceModule[] {
  return SERVICES.map((s) => s.create(deps));
}

/** The settings every product declares, in the order of SERVICES. */
export function serviceSettings(): Array<[key: string, def: SettingDef]> {
  return SERVICES.flatMap((s) => Object.entries(s.settings ?? {}));
}
