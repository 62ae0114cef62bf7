import type { BrowseKind } from '../browse';
import { KIND } from './kinds';

const REAL_SERVERS = { path: 'RealServerSet.RealServerId', kind: KIND.realServer };

/** GAAP resources as the console shows them. */
export const gaapBrowse: readonly BrowseKind[] = [
  {
    kind: KIND.proxy, service: 'gaap', title: 'Proxies', nameField: 'ProxyName',
    columns: ['ProxyName', 'Status', 'AccessRegion', 'RealServerRegion', 'Bandwidth', 'Concurrent', 'IP', 'GroupId'],
    searchFields: ['ProxyName', 'IP', 'Domain'],
    parentKinds: [KIND.group], links: [{ path: 'PolicyId', kind: KIND.securityPolicy }],
  },
  {
    kind: KIND.group, service: 'gaap', title: 'Proxy groups', nameField: 'GroupName',
    columns: ['GroupName', 'Status', 'RealServerRegion', 'ProxyNum'], searchFields: ['GroupName'],
    links: [{ path: 'PolicyId', kind: KIND.securityPolicy }],
  },
  {
    kind: KIND.listener, service: 'gaap', title: 'Listeners', nameField: 'ListenerName',
    columns: ['ListenerName', 'Protocol', 'Port', 'ListenerStatus', 'Scheduler', 'RealServerType'], searchFields: ['ListenerName', 'Protocol'],
    parentKinds: [KIND.proxy, KIND.group], links: [REAL_SERVERS, { path: 'CertificateId', kind: KIND.certificate }],
  },
  {
    kind: KIND.domain, service: 'gaap', title: 'Listener domains',
    columns: ['Domain', 'CertificateId', 'DomainStatus', 'BanStatus'], searchFields: ['Domain'],
    parentKinds: [KIND.listener], links: [{ path: 'CertificateId', kind: KIND.certificate }],
  },
  {
    kind: KIND.rule, service: 'gaap', title: 'Forwarding rules',
    columns: ['Domain', 'Path', 'RuleStatus', 'Scheduler', 'RealServerType'], searchFields: ['Domain', 'Path'],
    parentKinds: [KIND.listener], links: [REAL_SERVERS],
  },
  {
    kind: KIND.realServer, service: 'gaap', title: 'Real servers', nameField: 'RealServerName',
    columns: ['RealServerName', 'RealServerIP', 'RealServerType', 'InBanBlacklist'], searchFields: ['RealServerName', 'RealServerIP'],
  },
  {
    kind: KIND.certificate, service: 'gaap', title: 'Certificates', nameField: 'CertificateAlias',
    columns: ['CertificateAlias', 'CertificateType', 'BeginTime', 'EndTime'], searchFields: ['CertificateAlias'],
  },
  {
    kind: KIND.securityPolicy, service: 'gaap', title: 'Security policies',
    columns: ['Status', 'DefaultAction', 'ProxyId', 'GroupId'], searchFields: [],
    parentKinds: [KIND.proxy, KIND.group],
  },
  {
    kind: KIND.securityRule, service: 'gaap', title: 'Security rules', nameField: 'AliasName',
    columns: ['AliasName', 'SourceCidr', 'Action', 'Protocol', 'DestPortRange'], searchFields: ['AliasName', 'SourceCidr'],
    parentKinds: [KIND.securityPolicy],
  },
  {
    kind: KIND.globalDomain, service: 'gaap', title: 'Global domains', nameField: 'Alias',
    columns: ['FullDomain', 'Alias', 'Status', 'DefaultValue'], searchFields: ['FullDomain', 'Alias', 'DefaultValue'],
  },
  {
    kind: KIND.dnsRecord, service: 'gaap', title: 'DNS records',
    columns: ['Status', 'NationCountryInnerCodes', 'ProxyIdList'], searchFields: [],
    parentKinds: [KIND.globalDomain], links: [{ path: 'ProxyIdList', kind: KIND.proxy }],
  },
];
