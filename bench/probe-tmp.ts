// temporary experiment (not committed)
import { writeFileSync } from 'node:fs';
import * as run from './run';
import { captureSdkRequest, cnClient } from '../test/helpers';
const ACCESS = ['Hongkong', 'SoutheastAsia', 'Korea', 'Europe', 'NorthAmerica', 'WestIndia', 'Thailand', 'Virginia', 'Japan', 'Taipei', 'Jakarta', 'SaoPaulo'];
async function main() {
  const port = Number(process.argv[2]);
  const c = cnClient('gaap', { port });
  const ids: string[] = [];
  let next = 0;
  await Promise.all(Array.from({ length: 24 }, async () => { while (next < 10000) { const i = next++; ids[i] = (await c.CreateProxy({ ProjectId: 0, ProxyName: `bench-${i}`, AccessRegion: ACCESS[i % 12], RealServerRegion: 'Beijing', Bandwidth: 10, Concurrent: 2 })).InstanceId!; } }));
  next = 0;
  await Promise.all(Array.from({ length: 24 }, async () => { while (next < 10000) { const i = next++; await c.CreateTCPListeners({ ProxyId: ids[i], ListenerName: `l${i}`, Ports: [8000, 8001, 8002, 8003, 8004], Scheduler: 'rr', HealthCheck: 0, RealServerType: 'IP' }); } }));
  const cap = await captureSdkRequest((p) => cnClient('gaap', { port: p }).DescribeProxies({ Limit: 20, Filters: [{ Name: 'AccessRegion', Values: ['Hongkong'] }] }));
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(cap.headers)) if (typeof v === 'string' && k !== 'content-length' && k !== 'connection') headers[k] = v;
  writeFileSync('/tmp/exp/req.json', JSON.stringify({ method: cap.method, path: cap.url, headers, body: cap.body.toString() }));
  console.log('filled');
  process.exit(0);
}
void run; main();
