/**
 * Data-plane traffic for the soak: one running proxy with a TCP listener
 * bound to an echo origin in this process, and short connections through it
 * (connect, send a kilobyte, read it back, close), so the forwarding path,
 * its counters and their flushes to the store run for the whole soak.
 */
import { connect, createServer, type AddressInfo, type Server } from 'node:net';
import { cnClient } from '../../testkit/sdk';

const PAYLOAD = Buffer.alloc(1024, 'soak');

export interface TrafficStats {
  exchanges: number;
  failures: number;
  bytes: number;
}

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class TrafficLoad {
  readonly stats: TrafficStats = { exchanges: 0, failures: 0, bytes: 0 };
  private origin: Server | undefined;
  private target: { host: string; port: number } | undefined;

  /** A running proxy, a listener on `listenerPort` and the echo origin behind it; resolves once a connection gets its bytes back. */
  async start(apiPort: number, listenerPort: number): Promise<void> {
    this.origin = createServer((s) => s.pipe(s)).listen(0, '127.0.0.1');
    await new Promise((r) => this.origin!.once('listening', r));
    const originPort = (this.origin.address() as AddressInfo).port;
    const gaap = cnClient('gaap', { port: apiPort });
    const { InstanceId: ProxyId } = await gaap.CreateProxy({ ProjectId: 0, ProxyName: 'soak-traffic', AccessRegion: 'Hongkong', RealServerRegion: 'Beijing', Bandwidth: 100, Concurrent: 2 });
    let ip = '';
    for (let i = 0; i < 200 && !ip; i++) {
      const p = (await gaap.DescribeProxies({ ProxyIds: [ProxyId!] })).ProxySet![0];
      if (p.Status === 'RUNNING') ip = p.IP!;
      else await pause(50);
    }
    if (!ip) throw new Error('the soak proxy never ran');
    const { RealServerSet } = await gaap.AddRealServers({ ProjectId: 0, RealServerIP: ['127.0.0.1'], RealServerName: 'soak-echo' });
    const { ListenerIds } = await gaap.CreateTCPListeners({
      ListenerName: 'soak', Ports: [listenerPort], Scheduler: 'rr', HealthCheck: 0, RealServerType: 'IP', ProxyId, DelayLoop: 5, ConnectTimeout: 2,
    });
    for (let i = 0; ; i++) {
      try {
        await gaap.BindListenerRealServers({ ListenerId: ListenerIds![0], RealServerBindSet: [{ RealServerId: RealServerSet![0].RealServerId!, RealServerPort: originPort, RealServerIP: '127.0.0.1', RealServerWeight: 1 }] });
        break;
      } catch (err) {
        // The listener is still being created.
        if (i > 200) throw err;
        await pause(50);
      }
    }
    this.target = { host: ip, port: listenerPort };
    for (let i = 0; i < 200; i++) {
      if (await this.exchange()) return;
      await pause(50);
    }
    throw new Error('no bytes came back through the soak listener');
  }

  /** One short connection; false (and counted) when it failed. */
  async step(): Promise<boolean> {
    const ok = await this.exchange();
    if (ok) this.stats.exchanges++;
    else this.stats.failures++;
    return ok;
  }

  private exchange(): Promise<boolean> {
    return new Promise((resolve) => {
      let got = 0;
      const s = connect({ host: this.target!.host, port: this.target!.port, timeout: 5_000 }, () => s.end(PAYLOAD));
      const done = (ok: boolean) => {
        s.destroy();
        resolve(ok);
      };
      s.on('data', (chunk: Buffer) => {
        got += chunk.length;
        this.stats.bytes += chunk.length;
      });
      s.once('end', () => done(got === PAYLOAD.length));
      s.once('error', () => done(false));
      s.once('timeout', () => done(false));
    });
  }

  stop(): void {
    this.origin?.close();
  }
}
