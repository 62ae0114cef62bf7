/**
 * Virtual-hosted bucket addresses of the COS family:
 * `<BucketName-APPID>.<service>.<Region>.myqcloud.com`, with or without a port.
 */
export type { BucketHost } from '../../core/service';
import type { BucketHost } from '../../core/service';

const BUCKET_HOST = /^(([a-z0-9](?:[a-z0-9-]*[a-z0-9])?)-(\d{1,12}))\.([a-z0-9]+)\.([a-z0-9-]+)\.myqcloud\.com$/;

/** Strips the port (also from bracketed IPv6 literals) and lower-cases. */
export function hostWithoutPort(raw: string): string {
  const host = raw.trim().toLowerCase();
  if (host.startsWith('[')) {
    const end = host.indexOf(']');
    return end > 0 ? host.slice(0, end + 1) : host;
  }
  const colon = host.lastIndexOf(':');
  return colon >= 0 && /^\d*$/.test(host.slice(colon + 1)) ? host.slice(0, colon) : host;
}

/** The bucket, APPID, service and region a host names, or undefined. */
export function parseBucketHost(raw: string | undefined): BucketHost | undefined {
  if (!raw) return undefined;
  const host = hostWithoutPort(raw);
  const m = BUCKET_HOST.exec(host);
  if (!m) return undefined;
  const appId = Number(m[3]);
  if (!Number.isSafeInteger(appId) || appId <= 0) return undefined;
  return { bucket: m[1], bucketName: m[2], appId, service: m[4], region: m[5], host };
}
