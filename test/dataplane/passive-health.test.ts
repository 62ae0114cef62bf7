import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { effectiveHealthy, PassiveHealth } from '../../src/dataplane/passive-health';
import { newOriginState } from '../../src/dataplane/origins';
import type { PassiveCheckSettings } from '../../src/services/gaap/forwarding-http';

const origin = () => newOriginState({ realServerId: 'rs-1', address: '127.0.0.1', port: 80, weight: 1, role: '', recorded: { healthy: true, downIps: [] } });

/** Feeds failures at the given times (ms) and answers when the origin was first blocked, or undefined. */
function blockedAt(settings: Partial<PassiveCheckSettings>, times: number[]): number | undefined {
  const o = origin();
  const passive = new PassiveHealth({ enabled: true, failedCountInter: 10, failedThreshold: 3, blockInter: 60, ...settings }, 1, () => undefined);
  try {
    for (const t of times) {
      passive.failed(o, t);
      if (!effectiveHealthy(o, t)) return t;
    }
    return undefined;
  } finally {
    passive.stop();
  }
}

describe('data plane: passive health of rule origins', () => {
  it('blocks only for FailedThreshold failures within FailedCountInter', () => {
    // Three failures 6 s apart never fall within one 10 s window.
    assert.equal(blockedAt({}, [0, 6_000, 12_000, 18_000, 24_000]), undefined);
    // The third within 10 s of the first blocks.
    assert.equal(blockedAt({}, [0, 6_000, 9_000]), 9_000);
    assert.equal(blockedAt({}, [0, 6_000, 12_000, 15_000]), 15_000);
  });

  it('a block lasts BlockInter, during which failures are not counted; a 0 in any setting, or checks off, never blocks', () => {
    const o = origin();
    const passive = new PassiveHealth({ enabled: true, failedCountInter: 10, failedThreshold: 2, blockInter: 60 }, 1, () => undefined);
    passive.failed(o, 0);
    passive.failed(o, 1_000);
    assert.equal(effectiveHealthy(o, 1_000), false);
    assert.equal(effectiveHealthy(o, 60_999), false);
    assert.equal(effectiveHealthy(o, 61_000), true);
    passive.stop();
    for (const off of [{ failedThreshold: 0 }, { failedCountInter: 0 }, { blockInter: 0 }, { enabled: false }]) {
      assert.equal(blockedAt(off, [0, 1, 2, 3, 4, 5]), undefined, JSON.stringify(off));
    }
  });
});
