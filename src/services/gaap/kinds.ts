import { invalidParameterValue } from '../../core/errors';

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

/** `ProxyIds` wins over the deprecated `InstanceIds` when both are sent. */
export const proxyIdsOf = (input: { ProxyIds?: string[]; InstanceIds?: string[] }): string[] | undefined =>
  input.ProxyIds ?? input.InstanceIds;

/** The name of the id list the caller sent, for errors about it. */
export const proxyIdsParam = (input: { ProxyIds?: string[]; InstanceIds?: string[] }): 'ProxyIds' | 'InstanceIds' =>
  input.ProxyIds === undefined && input.InstanceIds !== undefined ? 'InstanceIds' : 'ProxyIds';

/** A project of the account (0 is the default project); `code` is the one the action documents. */
export function checkProjectId(v: number, code = 'InvalidParameterValue'): number {
  if (!Number.isInteger(v) || v < 0) throw invalidParameterValue('ProjectId', 'expected a project ID of the account (0 for the default project)', code);
  return v;
}
