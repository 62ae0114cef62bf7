import { ApiError, invalidParameterValue } from '../../core/errors';
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

/** The name of the id list the caller sent, for errors about it. */
export const proxyIdsParam = (input: { ProxyIds?: string[]; InstanceIds?: string[] }): 'ProxyIds' | 'InstanceIds' =>
  input.ProxyIds === undefined && input.InstanceIds !== undefined ? 'InstanceIds' : 'ProxyIds';

/** Offset (default 0) and Limit (default 20, at most 1000) of the certificate and rule lists. */
export function offsetLimit(input: { Offset?: number; Limit?: number }): { offset: number; limit: number } {
  const offset = input.Offset ?? 0;
  const limit = input.Limit ?? 20;
  if (offset < 0) throw invalidParameterValue('Offset', 'must not be negative');
  if (limit < 0 || limit > 1000) throw invalidParameterValue('Limit', 'between 0 and 1000');
  return { offset, limit };
}
