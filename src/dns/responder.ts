/**
 * Answers one DNS query (bytes in, bytes out), authoritatively, for the
 * names of the zone. The wire format is read and written by `dns-packet`;
 * this module decides what to answer.
 *
 * Answers are kept, keyed by the query's bytes (less its ID), the
 * transport and the client's country, until GAAP's view moves on: a repeated
 * query costs a map lookup and a copy.
 */
import type * as DnsPacket from 'dns-packet';
import type { GaapDnsView } from '../services/gaap/dns-view';
import { CountryTable } from './client-country';
import { GAAP_ZONE, Zone } from './zone';

export type Transport = 'udp' | 'tcp';

const RCODE = { NOERROR: 0, FORMERR: 1, SERVFAIL: 2, NXDOMAIN: 3, NOTIMP: 4, REFUSED: 5 } as const;
/** Extended RCODE BADVERS (16): the high bits go in the OPT record. */
const BADVERS_HIGH = 1;
const FLAG = { QR: 0x8000, AA: 0x0400, TC: 0x0200, RD: 0x0100 } as const;
/** Largest UDP answer without EDNS, and the most we send with it (the size DNS flag day 2020 settled on). */
const PLAIN_UDP_MAX = 512;
const EDNS_UDP_MAX = 1232;
const OPT_CLIENT_SUBNET = 8;
/** Query types that are not questions about one name's records. */
const NOT_IMPLEMENTED_TYPES = new Set(['AXFR', 'IXFR', 'UNKNOWN_253', 'UNKNOWN_254']);
/** CNAMEs followed inside the zone before giving up (a loop of DefaultValues). */
const MAX_CHAIN = 8;
const CACHE_ENTRIES = 10_000;
/** Larger queries (TCP can carry 64 KiB) are answered but not kept, so the cache stays small. */
const CACHE_QUERY_MAX = 512;

type Rr = DnsPacket.Answer;
/** The codec, with the question codec its type definitions leave out; loaded with the first query, not at start. */
type Codec = typeof DnsPacket & {
  question: { encodingLength(q: DnsPacket.Question): number; decode: ((buf: Buffer, offset: number) => DnsPacket.Question) & { bytes: number } };
};
let codec: Codec | undefined;
const dnsPacket = (): Codec => (codec ??= require('dns-packet') as Codec);
interface EdnsInfo {
  udpSize: number;
  version: number;
  /** The client-subnet option to echo, with its scope set. */
  subnet?: { code: number; data: Buffer };
  subnetAddress?: string;
}

export interface ResponderOptions {
  view: GaapDnsView;
  countries: CountryTable;
  /** TTL of answers, and of negative answers (the SOA minimum). */
  ttl: number;
}

export class Responder {
  private readonly zone: Zone;
  private readonly cache = new Map<string, Buffer>();
  private cacheVersion = -1;

  constructor(private readonly o: ResponderOptions) {
    this.zone = new Zone(o.view);
  }

  /** The answer to `query` from `client`, or null when nothing must be sent back. */
  answer(query: Buffer, client: string, transport: Transport): Buffer | null | Promise<Buffer | null> {
    if (query.length < 12 || (query[2] & 0x80) !== 0) return null;
    const version = this.o.view.version();
    if (version !== this.cacheVersion) {
      this.cache.clear();
      this.cacheVersion = version;
    }
    const sourceCountry = this.o.countries.countryOf(client) ?? '';
    const key = `${transport}|${sourceCountry}|${query.toString('latin1', 2)}`;
    const hit = this.cache.get(key);
    if (hit) return withId(hit, query);
    return this.build(query, client, transport).then(
      (out) => {
        if (this.o.view.version() === version && this.cacheVersion === version && query.length <= CACHE_QUERY_MAX) {
          if (this.cache.size >= CACHE_ENTRIES) this.cache.clear();
          this.cache.set(key, out);
        }
        return withId(out, query);
      },
      () => header(query, RCODE.SERVFAIL),
    );
  }

  private async build(query: Buffer, client: string, transport: Transport): Promise<Buffer> {
    const zone = this.zone;
    const opcode = (query[2] >> 3) & 0x0f;
    let packet: DnsPacket.Packet;
    try {
      packet = dnsPacket().decode(query);
    } catch {
      return header(query, RCODE.FORMERR);
    }
    if (opcode !== 0) return header(query, RCODE.NOTIMP);
    const questions = packet.questions ?? [];
    if (questions.length !== 1) return header(query, RCODE.FORMERR);
    const q = questions[0];

    let edns: EdnsInfo | undefined;
    try {
      edns = readEdns(packet.additionals ?? []);
    } catch {
      return header(query, RCODE.FORMERR);
    }
    const raw = { query, edns, transport };
    if (edns && edns.version > 0) return reply(raw, q, { rcode: 0, extendedRcode: BADVERS_HIGH, aa: false });
    const type = String(q.type);
    const klass = String(q.class);
    if (type === 'OPT') return reply(raw, q, { rcode: RCODE.FORMERR, aa: false });
    if (klass !== 'IN' && klass !== 'ANY') return reply(raw, q, { rcode: RCODE.REFUSED, aa: false });
    if (NOT_IMPLEMENTED_TYPES.has(type)) return reply(raw, q, { rcode: RCODE.NOTIMP, aa: false });

    const name = q.name.toLowerCase().replace(/\.$/, '');
    if (!zone.has(name)) return reply(raw, q, { rcode: RCODE.REFUSED, aa: false });
    const country = this.o.countries.countryOf(edns?.subnetAddress ?? client);
    const answers: Rr[] = [];
    let owner = q.name.replace(/\.$/, '');
    let target = name;
    let result = await zone.resolve(target, country);
    for (let hops = 0; result && result.cname !== undefined && hops < MAX_CHAIN; hops++) {
      answers.push({ name: owner, type: 'CNAME', class: 'IN', ttl: this.o.ttl, data: result.cname });
      if (type === 'CNAME') break;
      owner = result.cname;
      target = result.cname.toLowerCase();
      // A target outside the zone is for the client's resolver to follow.
      if (!zone.has(target)) break;
      result = await zone.resolve(target, country);
    }
    if (result && result.cname === undefined) {
      if (type === 'A' || type === 'ANY') for (const a of result.v4) answers.push({ name: owner, type: 'A', class: 'IN', ttl: this.o.ttl, data: a });
      if (type === 'AAAA' || type === 'ANY') for (const a of result.v6) answers.push({ name: owner, type: 'AAAA', class: 'IN', ttl: this.o.ttl, data: a });
    }
    if (zone.isApex(target) && (type === 'SOA' || type === 'ANY')) answers.push(this.soa(target));
    // NXDOMAIN and NODATA carry the SOA, whose minimum tells resolvers how long to remember them.
    const nodata = result !== null && result.cname === undefined && !answers.some((a) => a.name === owner && a.type !== 'CNAME');
    const authorities = result === null || nodata ? [this.soa(GAAP_ZONE)] : [];
    const rcode = result === null ? RCODE.NXDOMAIN : RCODE.NOERROR;
    return reply(raw, q, { rcode, aa: true, answers, authorities });
  }

  private soa(apex: string): Rr {
    return {
      name: apex,
      type: 'SOA',
      class: 'IN',
      ttl: this.o.ttl,
      data: {
        mname: `ns.${apex}`,
        rname: `hostmaster.${apex}`,
        // The serial moves with the data behind the answers.
        serial: this.zone.version >>> 0,
        refresh: 3600,
        retry: 600,
        expire: 86_400,
        minimum: this.o.ttl,
      },
    };
  }
}

/** The OPT record of a query, checked: one at most, owned by the root; its client subnet, if any. */
function readEdns(additionals: Rr[]): EdnsInfo | undefined {
  const opts = additionals.filter((a) => a.type === 'OPT') as DnsPacket.OptAnswer[];
  if (opts.length === 0) return undefined;
  if (opts.length > 1 || opts[0].name !== '.') throw new Error('bad OPT');
  const opt = opts[0] as DnsPacket.OptAnswer & { ednsVersion?: number };
  const info: EdnsInfo = { udpSize: opt.udpPayloadSize ?? PLAIN_UDP_MAX, version: opt.ednsVersion ?? 0 };
  for (const o of (opt.options ?? []) as Array<{ code: number; data: Buffer; family?: number; sourcePrefixLength?: number; ip?: string }>) {
    if (o.code !== OPT_CLIENT_SUBNET) continue;
    const max = o.family === 1 ? 32 : o.family === 2 ? 128 : -1;
    const prefix = o.sourcePrefixLength ?? 0;
    if (max < 0 || prefix > max || o.data.length !== 4 + Math.ceil(prefix / 8)) throw new Error('bad client subnet');
    const data = Buffer.from(o.data);
    // Scope: the answer holds for the whole subnet the client gave.
    data[3] = prefix;
    info.subnet = { code: OPT_CLIENT_SUBNET, data };
    // Source prefix 0: the client asks that its subnet not be used.
    if (prefix > 0) info.subnetAddress = o.ip;
  }
  return info;
}

interface ReplyParts {
  rcode: number;
  extendedRcode?: number;
  aa: boolean;
  answers?: Rr[];
  authorities?: Rr[];
}

/**
 * The response: the query's question echoed byte for byte (the client's
 * letter case included), the records, and an OPT record when the query had
 * one. Over UDP, an answer larger than the client takes is sent empty with
 * TC set, so the client asks again over TCP.
 */
function reply(raw: { query: Buffer; edns?: EdnsInfo; transport: Transport }, q: DnsPacket.Question, p: ReplyParts): Buffer {
  const { query, edns, transport } = raw;
  const additionals: Rr[] = [];
  if (edns) {
    additionals.push({
      name: '.',
      type: 'OPT',
      udpPayloadSize: EDNS_UDP_MAX,
      extendedRcode: p.extendedRcode ?? 0,
      ednsVersion: 0,
      flags: 0,
      options: edns.subnet ? [edns.subnet] : [],
    } as unknown as Rr);
  }
  const flagsOf = (tc: boolean) => FLAG.QR | (p.aa ? FLAG.AA : 0) | (tc ? FLAG.TC : 0) | (query.readUInt16BE(2) & FLAG.RD) | p.rcode;
  const encode = (answers: Rr[], authorities: Rr[], tc: boolean): Buffer => {
    const out = dnsPacket().encode({ id: 0, type: 'response', flags: flagsOf(tc), questions: [q], answers, authorities, additionals });
    // Splice in the question as the client sent it.
    const qLength = dnsPacket().question.encodingLength(q);
    const rawQuestion = query.subarray(12, 12 + questionLength(query));
    return Buffer.concat([out.subarray(0, 12), rawQuestion, out.subarray(12 + qLength)]);
  };
  const full = encode(p.answers ?? [], p.authorities ?? [], false);
  const limit = transport === 'tcp' ? 65_535 : edns ? Math.min(Math.max(edns.udpSize, PLAIN_UDP_MAX), EDNS_UDP_MAX) : PLAIN_UDP_MAX;
  return full.length <= limit ? full : encode([], [], true);
}

/** Bytes of the first question (after the header), which decoding has already checked. */
function questionLength(query: Buffer): number {
  dnsPacket().question.decode(query, 12);
  return dnsPacket().question.decode.bytes;
}

/** A bare response (no question) with the query's ID, opcode and RD: for queries that cannot be read. */
function header(query: Buffer, rcode: number): Buffer {
  const out = Buffer.alloc(12);
  out.writeUInt16BE(query.readUInt16BE(0), 0);
  out.writeUInt16BE(FLAG.QR | (query.readUInt16BE(2) & 0x7900) | rcode, 2);
  return out;
}

/** A kept answer with the query's ID. */
function withId(answer: Buffer, query: Buffer): Buffer {
  const out = Buffer.allocUnsafe(answer.length);
  answer.copy(out);
  out[0] = query[0];
  out[1] = query[1];
  return out;
}
