import type { ExtraProtocol } from '../../gateway/http';
import type { ProtocolDeps } from '../index';

/** Cloud Infinite (COS-style XML API): live-stream moderation jobs. */
export function ciProtocol(_deps: ProtocolDeps): ExtraProtocol[] {
  return [];
}
