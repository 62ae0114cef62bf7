/**
 * DNS clients for tests: Node's resolver (c-ares), dig, and raw packets
 * over UDP and TCP (encoded with dns-packet, or bytes as given).
 */
import { execFile } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { promises as dnsPromises } from 'node:dns';
import { connect } from 'node:net';
import { promisify } from 'node:util';
import * as dnsPacket from 'dns-packet';
import type { RunningServer } from '../../src/server';

const execFileAsync = promisify(execFile);

export const dnsPort = (server: RunningServer): number => {
  if (!server.dns) throw new Error('the DNS server is off');
  return server.dns.port;
};

/** Node's resolver pointed at the server, sending from `localAddress` (a 127/8 address) when given. */
export function resolver(server: RunningServer, localAddress?: string): dnsPromises.Resolver {
  const r = new dnsPromises.Resolver({ timeout: 3000, tries: 2 });
  r.setServers([`127.0.0.1:${dnsPort(server)}`]);
  if (localAddress) r.setLocalAddress(localAddress);
  return r;
}

/** dig's full output (it must not block the event loop: the server runs in this process). */
export async function dig(server: RunningServer, ...args: string[]): Promise<string> {
  const { stdout } = await execFileAsync('dig', ['@127.0.0.1', '-p', String(dnsPort(server)), '+tries=2', '+time=3', ...args]);
  return stdout;
}

/** dig +short: the answer lines. */
export async function digShort(server: RunningServer, ...args: string[]): Promise<string[]> {
  return (await dig(server, '+short', ...args)).split('\n').map((l) => l.trim()).filter(Boolean);
}

/** The status dig prints (NOERROR, NXDOMAIN, REFUSED, …). */
export async function digStatus(server: RunningServer, ...args: string[]): Promise<string> {
  const out = await dig(server, ...args);
  const m = /status: ([A-Z]+)/.exec(out);
  if (!m) throw new Error(`no status in dig output:\n${out}`);
  return m[1];
}

/** Sends `bytes` over UDP and waits for one answer (undefined after `waitMs`). */
export function udpExchange(server: RunningServer, bytes: Buffer, waitMs = 3000): Promise<Buffer | undefined> {
  return new Promise((resolve) => {
    const socket = createSocket('udp4');
    const timer = setTimeout(() => {
      socket.close();
      resolve(undefined);
    }, waitMs);
    socket.on('message', (msg) => {
      clearTimeout(timer);
      socket.close();
      resolve(msg);
    });
    socket.send(bytes, dnsPort(server), '127.0.0.1');
  });
}

/** Sends length-framed messages over one TCP connection, in the chunks given; collects `expect` answers. */
export function tcpExchange(server: RunningServer, chunks: Buffer[], expect: number): Promise<Buffer[]> {
  return new Promise((resolve, reject) => {
    const socket = connect(dnsPort(server), '127.0.0.1');
    const answers: Buffer[] = [];
    let pending = Buffer.alloc(0);
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`got ${answers.length} of ${expect} TCP answers`));
    }, 5000);
    socket.on('error', reject);
    socket.on('data', (chunk) => {
      pending = Buffer.concat([pending, chunk]);
      while (pending.length >= 2 && pending.length >= 2 + pending.readUInt16BE(0)) {
        answers.push(pending.subarray(2, 2 + pending.readUInt16BE(0)));
        pending = pending.subarray(2 + pending.readUInt16BE(0));
      }
      if (answers.length >= expect) {
        clearTimeout(timer);
        socket.end();
        resolve(answers);
      }
    });
    socket.on('connect', async () => {
      for (const c of chunks) {
        socket.write(c);
        await new Promise((r) => setTimeout(r, 20));
      }
    });
  });
}

/** A query packet; `edns` adds an OPT record (with these options). */
export function query(name: string, type: string, o: { id?: number; edns?: dnsPacket.PacketOpt[] | true; klass?: string } = {}): Buffer {
  const additionals = o.edns
    ? [{ name: '.', type: 'OPT', udpPayloadSize: 1232, flags: 0, options: o.edns === true ? [] : o.edns } as unknown as dnsPacket.Answer]
    : [];
  return dnsPacket.encode({
    id: o.id ?? 4242,
    type: 'query',
    flags: dnsPacket.RECURSION_DESIRED,
    questions: [{ name, type: type as dnsPacket.RecordType, class: (o.klass ?? 'IN') as dnsPacket.RecordClass }],
    additionals,
  });
}

export const frame = (msg: Buffer): Buffer => Buffer.concat([Buffer.from([msg.length >> 8, msg.length & 255]), msg]);

export const rcodeOf = (msg: Buffer): number => msg.readUInt16BE(2) & 0x0f;
export const RCODE = { NOERROR: 0, FORMERR: 1, SERVFAIL: 2, NXDOMAIN: 3, NOTIMP: 4, REFUSED: 5 } as const;
