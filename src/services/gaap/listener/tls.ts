import { invalidParameterValue } from '../../../core/errors';

/**
 * TLS settings of HTTPS listeners (SetTlsVersion) and of their domains
 * (SetDomainHttp3 / SetAuthentication and friends): one list of versions and
 * cipher profiles, one spelling accepted, one order stored.
 */
export const TLS_VERSIONS = ['TLSv1', 'TLSv1.1', 'TLSv1.2', 'TLSv1.3'] as const;
export const TLS_CIPHERS = ['GAAP_TLS_CIPHERS_STRICT', 'GAAP_TLS_CIPHERS_GENERAL', 'GAAP_TLS_CIPHERS_WIDE'] as const;
export type TlsVersion = (typeof TLS_VERSIONS)[number];

/** What a new HTTPS listener offers until SetTlsVersion says otherwise. */
export const DEFAULT_TLS = { TLSSupportVersion: [...TLS_VERSIONS] as string[], TLSCiphers: 'GAAP_TLS_CIPHERS_WIDE' };

/**
 * At least one known version (`TLSv1.0` taken as `TLSv1`, as the document's
 * examples write it); returned without repeats, oldest first.
 */
export function checkTlsVersions(list: string[]): TlsVersion[] {
  if (list.length === 0) throw invalidParameterValue('TLSSupportVersion', 'at least one TLS version is required');
  const given = new Set(list.map((v) => (v === 'TLSv1.0' ? 'TLSv1' : v)));
  for (const v of given) {
    if (!(TLS_VERSIONS as readonly string[]).includes(v)) throw invalidParameterValue('TLSSupportVersion', `\`${v}\` is not one of ${TLS_VERSIONS.join(', ')}`);
  }
  return TLS_VERSIONS.filter((v) => given.has(v));
}

/** A cipher profile; the SDK's own description misspells two of them without the underscore, so that spelling is taken too. */
export function checkTlsCiphers(v: string): string {
  const fixed = v.replace(/^GAAPTLS_/, 'GAAP_TLS_');
  if (!(TLS_CIPHERS as readonly string[]).includes(fixed)) throw invalidParameterValue('TLSCiphers', `expected one of ${TLS_CIPHERS.join(', ')}`);
  return fixed;
}
