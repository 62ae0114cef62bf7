import { ApiError } from '../../core/errors';
import type { ServiceSpec } from '../../spec/types';

const API_HOST = /^([a-z0-9]+)(?:\.[a-z]{2,}-[a-z0-9-]+)?(?:\.intl)?\.tencentcloudapi\.com$/;

export interface Route {
  spec: ServiceSpec;
  action: string;
}

/**
 * Finds the service of a request: from the Host (`<svc>[.<region>][.intl]
 * .tencentcloudapi.com`), else from a known service name in the TC3 scope,
 * else from the (Version, Action) pair, unique across emulated services.
 */
export class Router {
  private readonly byName = new Map<string, ServiceSpec>();
  private readonly byVersionAction = new Map<string, ServiceSpec>();
  private readonly versions = new Set<string>();

  constructor(specs: ServiceSpec[]) {
    for (const spec of specs) {
      this.byName.set(spec.service, spec);
      this.versions.add(spec.version);
      for (const action of Object.keys(spec.actions)) this.byVersionAction.set(`${spec.version} ${action}`, spec);
    }
  }

  serviceNames(): string[] {
    return [...this.byName.keys()];
  }

  route(host: string, scopeService: string | undefined, version: string, action: string): Route {
    const hostname = host.replace(/^[a-z]+:\/\//i, '').replace(/:\d+$/, '').toLowerCase();
    const fromHost = API_HOST.exec(hostname)?.[1];
    let spec: ServiceSpec | undefined;
    if (fromHost) {
      spec = this.byName.get(fromHost);
      if (!spec) throw new ApiError('NoSuchProduct', `The product \`${fromHost}\` is not emulated by tclocal (emulated: ${this.serviceNames().join(', ')}).`);
    } else if (scopeService && this.byName.has(scopeService)) {
      spec = this.byName.get(scopeService);
    } else {
      spec = this.byVersionAction.get(`${version} ${action}`);
      if (!spec) {
        if (!this.versions.has(version)) throw new ApiError('NoSuchVersion', `The API version \`${version}\` does not exist for any emulated product.`);
        throw new ApiError('InvalidAction', `The action \`${action}\` does not exist for version ${version}.`);
      }
    }
    if (spec!.version !== version) {
      throw new ApiError('NoSuchVersion', `The API version \`${version}\` does not exist for ${spec!.service} (supported: ${spec!.version}).`);
    }
    if (!Object.hasOwn(spec!.actions, action)) {
      throw new ApiError('InvalidAction', `The action \`${action}\` does not exist for ${spec!.service} ${version}.`);
    }
    return { spec: spec!, action };
  }
}
