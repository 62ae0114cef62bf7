/** An HTTP server on 127.0.0.1 that answers 200 to anything and records the paths it was sent. */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export async function pathReceiver(): Promise<{ server: Server; port: number; hits: string[] }> {
  const hits: string[] = [];
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      hits.push(req.url ?? '');
      res.end('ok');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, port: (server.address() as AddressInfo).port, hits };
}
