/**
 * The TLS endpoint: every official SDK and tccli default to https://, so the
 * one port also speaks TLS. The first byte of a connection tells them apart
 * (0x16 opens a TLS handshake; plain HTTP starts with a method name), which
 * keeps the CONNECT tunnel working too: behind it a client speaks either.
 *
 * Certificates come from a local CA kept in a directory of its own (the data
 * directory by default): `ca.pem` is what clients trust. The server
 * certificate, signed by it, names the hosts tclocal routes; it is made on
 * the first TLS connection and kept beside the CA. Both are written by
 * renaming a finished directory into place, so parallel first starts agree.
 */
import { createHash, generateKeyPairSync, randomBytes, X509Certificate } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import type { Server as HttpServer } from 'node:http';
import type { Socket } from 'node:net';
import { dirname, join } from 'node:path';
import { createServer as createTlsServer, type Server as TlsServer } from 'node:tls';
import type Forge from 'node-forge';

/** node-forge builds and signs certificates only: loaded when one is made, not at every start. */
let forgeModule: typeof Forge | undefined;
const forge = (): typeof Forge => (forgeModule ??= require('node-forge') as typeof Forge);

/** Regions of the API 3.0 and COS-style hosts (`gaap.ap-guangzhou.tencentcloudapi.com`, `<bucket>.ci.ap-guangzhou.myqcloud.com`). */
const REGIONS = [
  'ap-guangzhou', 'ap-shanghai', 'ap-beijing', 'ap-chengdu', 'ap-chongqing', 'ap-nanjing', 'ap-hongkong', 'ap-singapore', 'ap-bangkok',
  'ap-jakarta', 'ap-seoul', 'ap-tokyo', 'ap-mumbai', 'na-siliconvalley', 'na-ashburn', 'na-toronto', 'sa-saopaulo', 'eu-frankfurt', 'eu-moscow',
  'ap-shenzhen-fsi', 'ap-shanghai-fsi', 'ap-beijing-fsi',
];

/**
 * Names the server certificate covers. A wildcard matches one label only, so
 * every regional shape is listed: `<service>.<region>.tencentcloudapi.com`,
 * `<service>.intl.tencentcloudapi.com` and `<bucket>-<appid>.ci.<region>.myqcloud.com`.
 */
export const SERVER_DNS_NAMES: readonly string[] = [
  'localhost',
  'tencentcloudapi.com',
  '*.tencentcloudapi.com',
  '*.intl.tencentcloudapi.com',
  ...REGIONS.map((r) => `*.${r}.tencentcloudapi.com`),
  'myqcloud.com',
  '*.myqcloud.com',
  ...REGIONS.flatMap((r) => [`*.ci.${r}.myqcloud.com`, `*.cos.${r}.myqcloud.com`]),
];
export const SERVER_IPS: readonly string[] = ['127.0.0.1', '::1'];

export interface TlsMaterial {
  cert: string;
  key: string;
}

const CA_FILE = 'ca.pem';
const CA_KEY_FILE = 'ca-key.pem';

/** Where the CA certificate clients should trust lives. */
export const caCertPath = (dir: string): string => join(dir, 'tls', CA_FILE);

function rsaKeyPair(): { privateKey: Forge.pki.rsa.PrivateKey; publicKey: Forge.pki.rsa.PublicKey; keyPem: string } {
  // Node generates the key (native, fast); forge builds and signs the certificate.
  const { privateKey, publicKey } = generateKeyPairSync('rsa', {
    modulusLength: 2048,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  });
  return { privateKey: forge().pki.privateKeyFromPem(privateKey) as Forge.pki.rsa.PrivateKey, publicKey: forge().pki.publicKeyFromPem(publicKey) as Forge.pki.rsa.PublicKey, keyPem: privateKey };
}

function newCertificate(publicKey: Forge.pki.PublicKey, years: number): Forge.pki.Certificate {
  const cert = forge().pki.createCertificate();
  cert.publicKey = publicKey;
  cert.serialNumber = '01' + randomBytes(15).toString('hex');
  cert.validity.notBefore = new Date(Date.now() - 60_000);
  cert.validity.notAfter = new Date(Date.now() + years * 365 * 86_400_000);
  return cert;
}

/** Writes files into `target` by renaming a finished directory into place; keeps an existing one. */
function publishDir(target: string, files: Record<string, string>): void {
  mkdirSync(dirname(target), { recursive: true });
  const tmp = mkdtempSync(`${target}.tmp-`);
  for (const [name, text] of Object.entries(files)) writeFileSync(join(tmp, name), text, { mode: 0o600 });
  try {
    renameSync(tmp, target);
  } catch (err) {
    rmSync(tmp, { recursive: true, force: true });
    // Another process finished first: use its files.
    if (!existsSync(join(target, Object.keys(files)[0]))) throw err;
  }
}

/** The local CA of `dir`, made on first use. */
export function ensureLocalCa(dir: string): TlsMaterial & { certPath: string } {
  const caDir = join(dir, 'tls');
  if (!existsSync(join(caDir, CA_FILE))) {
    const { privateKey, publicKey, keyPem } = rsaKeyPair();
    const cert = newCertificate(publicKey, 10);
    const name = [{ name: 'commonName', value: 'tclocal local CA' }, { name: 'organizationName', value: 'tclocal' }];
    cert.setSubject(name);
    cert.setIssuer(name);
    cert.setExtensions([
      { name: 'basicConstraints', cA: true, critical: true },
      { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true },
      { name: 'subjectKeyIdentifier' },
    ]);
    cert.sign(privateKey, forge().md.sha256.create());
    publishDir(caDir, { [CA_FILE]: forge().pki.certificateToPem(cert), [CA_KEY_FILE]: keyPem });
  }
  return { cert: readFileSync(join(caDir, CA_FILE), 'utf8'), key: readFileSync(join(caDir, CA_KEY_FILE), 'utf8'), certPath: join(caDir, CA_FILE) };
}

/** The server certificate for SERVER_DNS_NAMES and SERVER_IPS, signed by the CA; kept while valid for another 30 days. */
export function serverCertificate(dir: string, ca: TlsMaterial): TlsMaterial {
  const names = [...SERVER_DNS_NAMES, ...SERVER_IPS];
  const tag = createHash('sha256').update(ca.cert).update(names.join(',')).digest('hex').slice(0, 16);
  const certDir = join(dir, 'tls', `server-${tag}`);
  const certFile = join(certDir, 'server.pem');
  if (existsSync(certFile)) {
    const cert = readFileSync(certFile, 'utf8');
    if (new Date(new X509Certificate(cert).validTo).getTime() > Date.now() + 30 * 86_400_000) {
      return { cert, key: readFileSync(join(certDir, 'server-key.pem'), 'utf8') };
    }
    rmSync(certDir, { recursive: true, force: true });
  }
  const caCert = forge().pki.certificateFromPem(ca.cert);
  const caKey = forge().pki.privateKeyFromPem(ca.key);
  const { publicKey, keyPem } = rsaKeyPair();
  // Clients cap leaf validity (825 days on Apple platforms): two years, renewed as it nears the end.
  const cert = newCertificate(publicKey, 2);
  cert.setSubject([{ name: 'commonName', value: 'localhost' }, { name: 'organizationName', value: 'tclocal' }]);
  cert.setIssuer(caCert.subject.attributes);
  cert.setExtensions([
    { name: 'basicConstraints', cA: false },
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
    { name: 'extKeyUsage', serverAuth: true },
    { name: 'subjectAltName', altNames: [...SERVER_DNS_NAMES.map((value) => ({ type: 2, value })), ...SERVER_IPS.map((ip) => ({ type: 7, ip }))] },
  ]);
  cert.sign(caKey, forge().md.sha256.create());
  const pem = forge().pki.certificateToPem(cert);
  publishDir(certDir, { 'server.pem': pem, 'server-key.pem': keyPem });
  return { cert: readFileSync(certFile, 'utf8'), key: readFileSync(join(certDir, 'server-key.pem'), 'utf8') };
}

/** First byte of a TLS connection: the handshake record type. */
const TLS_HANDSHAKE = 0x16;

/**
 * Makes `http` (the server that listens) hand each connection to TLS or to
 * plain HTTP by its first byte. Its own connection handling is kept and fed
 * directly, so the HTTP server's limits (connection cap, head and request
 * timeouts, closeAllConnections) cover TLS connections as well. A socket
 * emitted as a 'connection' later (a CONNECT tunnel) is routed the same way.
 * `credentials` is asked for once, on the first TLS connection.
 */
export function acceptTls(http: HttpServer, credentials: () => TlsMaterial, silent: { afterMs: number; answer(socket: Socket): void }): void {
  const parseHttp = http.listeners('connection') as ((socket: Socket) => void)[];
  http.removeAllListeners('connection');
  const plain = (socket: Socket): void => {
    for (const listener of parseHttp) listener.call(http, socket);
  };
  let tls: TlsServer | undefined;
  const tlsServer = (): TlsServer => {
    if (!tls) {
      tls = createTlsServer({ ...credentials(), ALPNProtocols: ['http/1.1'], handshakeTimeout: silent.afterMs });
      tls.on('secureConnection', plain);
      tls.on('tlsClientError', (_err, socket) => socket.destroy());
    }
    return tls;
  };
  http.on('connection', (socket: Socket) => {
    // A peer that never sends a byte is answered like one that never finishes its request head.
    socket.setTimeout(silent.afterMs, () => silent.answer(socket));
    socket.once('data', (first: Buffer) => {
      socket.setTimeout(0);
      socket.pause();
      socket.unshift(first);
      if (first[0] === TLS_HANDSHAKE) {
        let server: TlsServer;
        try {
          server = tlsServer();
        } catch {
          socket.destroy();
          return;
        }
        server.emit('connection', socket);
      } else {
        plain(socket);
      }
      process.nextTick(() => socket.resume());
    });
  });
}
