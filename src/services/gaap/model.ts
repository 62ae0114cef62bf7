import { ApiError } from '../../core/errors';
import type { ResourceRecord } from '../../store/types';
import type { ActionContext } from '../types';

/**
 * Store kinds of GAAP resources. Records keep their data in the shape the
 * Describe actions return (ProxyInfo, TCPListener, ...), so a read is a
 * page of rows, not a rebuild.
 */
export const KIND = {
  proxy: 'gaap.proxy',
  group: 'gaap.group',
  listener: 'gaap.listener',
  /** L7 domain under an HTTP/HTTPS listener; id `${ListenerId}|${Domain}`. */
  domain: 'gaap.domain',
  rule: 'gaap.rule',
  realServer: 'gaap.realserver',
  certificate: 'gaap.certificate',
  securityPolicy: 'gaap.securitypolicy',
  securityRule: 'gaap.securityrule',
  globalDomain: 'gaap.globaldomain',
  dnsRecord: 'gaap.dnsrecord',
  errorPage: 'gaap.errorpage',
  task: 'gaap.task',
} as const;

/** Unix seconds, as every GAAP time field is returned. */
export const unixSeconds = (ms: number): number => Math.floor(ms / 1000);

export async function getOrThrow<T>(ctx: ActionContext, kind: string, id: string, error: () => ApiError): Promise<ResourceRecord<T>> {
  const rec = await ctx.tx.get<T>(kind, id);
  if (!rec) throw error();
  return rec;
}

/** `ProxyIds` wins over the deprecated `InstanceIds` when both are sent. */
export const proxyIdsOf = (input: { ProxyIds?: string[]; InstanceIds?: string[] }): string[] | undefined =>
  input.ProxyIds ?? input.InstanceIds;
