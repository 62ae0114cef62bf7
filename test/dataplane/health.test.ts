import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { HealthChecker } from '../../src/dataplane/health';
import { OriginSet } from '../../src/dataplane/origins';
import type { ForwardingListener, HealthCheckSettings } from '../../src/services/gaap/forwarding';
import { until } from './fixtures';

const health: HealthCheckSettings = { enabled: true, delayLoop: 1, connectTimeout: 1, healthyThreshold: 3, unhealthyThreshold: 2, type: 'CONNECT', checkPort: 0, send: '', expect: '' };

function originSet(): OriginSet {
  const listener: ForwardingListener = {
    listenerId: 'lsr-health', protocol: 'TCP', port: 0, proxyIds: [], groupId: null, serving: true, scheduler: 'rr', realServerType: 'IP',
    origins: [{ realServerId: 'rs-1', address: '127.0.0.1', port: 1, weight: 1, role: '', recorded: { healthy: true, downIps: [] } }],
    health, failover: false, sessionPersist: 0, clientIpMethod: 0, security: null,
  };
  return new OriginSet(listener);
}

describe('data plane: health check thresholds', () => {
  it('an origin turns abnormal after UnhealthyThreshold failures in a row and normal after HealthyThreshold successes in a row', async () => {
    // Probe results in order; the origin's state is read after each.
    const results = [false, true, false, false, true, true, false, true, true, true];
    const origins = originSet();
    const o = origins.states[0];
    // The state each probe finds: the one its predecessors left.
    const found: boolean[] = [];
    const checker = new HealthChecker(origins, health, async () => {
      found.push(o.healthy);
      return results[found.length - 1] ?? true;
    }, 0.01, { changed: () => undefined });
    try {
      await until(() => found.length > results.length, 'every scripted probe', 5000);
    } finally {
      checker.stop();
    }
    // One failure is not enough (2 needed); two in a row are. Then two successes are not enough (3 needed), a failure resets the count, three in a row are.
    assert.deepEqual(found.slice(1, results.length + 1), [true, true, true, false, false, false, false, false, false, true]);
  });
});
