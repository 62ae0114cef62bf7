/**
 * The front of HTTPS listeners: it reads the client's first TLS record
 * (the ClientHello) before any handshake, so that the server name the
 * client asked for picks everything about the handshake — certificate,
 * versions, ciphers, client CAs. OpenSSL decides the version before Node's
 * SNI callback runs, so a per-name context chosen there could only change
 * the certificate.
 */
import type { Socket } from 'node:net';

/** The largest TLS record (2^14 bytes of payload plus expansion) and its header. */
const MAX_RECORD = 5 + 16_384 + 2_048;
const HANDSHAKE = 0x16;
const CLIENT_HELLO = 1;
const SERVER_NAME_EXTENSION = 0;

/**
 * The host name of a ClientHello's server_name extension: lower-case, ''
 * when the hello names none, undefined when the bytes are not a ClientHello.
 * Only the first record is read: a hello split over records counts as
 * naming none.
 */
export function clientHelloServerName(record: Buffer): string | undefined {
  if (record.length < 9 || record[0] !== HANDSHAKE || record[5] !== CLIENT_HELLO) return undefined;
  const end = Math.min(record.length, 5 + record.readUInt16BE(3));
  try {
    let p = 9 + 2 + 32; // handshake header, client version, random
    p += 1 + record[p]; // session id
    p += 2 + record.readUInt16BE(p); // cipher suites
    p += 1 + record[p]; // compression methods
    const extensionsEnd = Math.min(end, p + 2 + record.readUInt16BE(p));
    p += 2;
    while (p + 4 <= extensionsEnd) {
      const type = record.readUInt16BE(p);
      const length = record.readUInt16BE(p + 2);
      p += 4;
      if (type === SERVER_NAME_EXTENSION) {
        // server_name_list length (2), name type (1, 0 = host_name), name length (2), name.
        if (record[p + 2] !== 0) return '';
        const nameLength = record.readUInt16BE(p + 3);
        return record.toString('latin1', p + 5, Math.min(p + 5 + nameLength, extensionsEnd)).toLowerCase();
      }
      p += length;
    }
    return '';
  } catch {
    return '';
  }
}

/**
 * Waits for the socket's first TLS record, puts the bytes back, and calls
 * `then` with the server name it asks for ('' for none or for bytes that
 * are not TLS: the handshake then fails as it would anyway). A client that
 * sends nothing for `timeoutMs` is disconnected.
 */
export function peekServerName(socket: Socket, timeoutMs: number, then: (name: string) => void): void {
  let buffered: Buffer = Buffer.alloc(0);
  const onTimeout = () => socket.destroy();
  const finish = () => {
    socket.off('data', onData);
    socket.off('timeout', onTimeout);
    socket.setTimeout(0);
    socket.pause();
    socket.unshift(buffered);
    then(clientHelloServerName(buffered) ?? '');
  };
  const onData = (chunk: Buffer) => {
    buffered = buffered.length ? Buffer.concat([buffered, chunk]) : chunk;
    if (buffered.length < 5) return;
    if (buffered[0] !== HANDSHAKE || buffered.length >= Math.min(MAX_RECORD, 5 + buffered.readUInt16BE(3))) finish();
  };
  socket.on('data', onData);
  socket.setTimeout(timeoutMs);
  socket.on('timeout', onTimeout);
  socket.on('error', () => socket.destroy());
}
