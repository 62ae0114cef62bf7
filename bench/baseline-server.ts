/**
 * Reference servers for the load benchmark, run in their own process:
 *   bare — answers a fixed JSON body (the body tclocal gives for the request);
 *   hmac — reads the body and computes the TC3-HMAC-SHA256 chain for it (key
 *          derivation, canonical request hash, signature) before answering
 *          the same body: the floor any verifying emulator must pay.
 */
import { createHash, createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';

const [mode, portArg, bodyFile] = process.argv.slice(2);
/** The same bytes tclocal answers for the benchmarked request, so only the work differs. */
const body = readFileSync(bodyFile);

const server = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    if (mode === 'hmac') {
      const payload = Buffer.concat(chunks);
      const ts = String(req.headers['x-tc-timestamp']);
      const date = new Date(Number(ts) * 1000).toISOString().slice(0, 10);
      const canonical = `POST\n/\n\ncontent-type:${req.headers['content-type']}\nhost:${req.headers.host}\n\ncontent-type;host\n${createHash('sha256').update(payload).digest('hex')}`;
      const kDate = createHmac('sha256', 'TC3secret').update(date).digest();
      const kService = createHmac('sha256', kDate).update('gaap').digest();
      const kSigning = createHmac('sha256', kService).update('tc3_request').digest();
      const sts = `TC3-HMAC-SHA256\n${ts}\n${date}/gaap/tc3_request\n${createHash('sha256').update(canonical).digest('hex')}`;
      createHmac('sha256', kSigning).update(sts).digest('hex');
    }
    res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': body.length });
    res.end(body);
  });
});
server.listen(Number(portArg), '127.0.0.1', () => process.send?.('ready'));
