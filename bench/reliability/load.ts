/**
 * Mixed API load for the reliability runs: every emulated product through
 * its official SDK (GAAP, SSL, AMS, Tag over API 3.0; Cloud Infinite over
 * COS-style XML). Each step's writes are recorded once acknowledged, so a
 * run can check afterwards that none was lost. Steps delete what they
 * create when `tidy`, so a long soak measures leaks, not data growth.
 */
import { DEFAULT_ACCOUNT } from '../../src/config';
import { cnClient } from '../../testkit/sdk';
import { ciClient, liveRequest } from '../../testkit/cos-client';
import { selfSigned } from '../../testkit/pem';
import type { Rand } from '../../testkit/prng';

/** A write the server acknowledged: the resource must exist after any restart. */
export interface Acknowledged {
  service: 'gaap' | 'ssl' | 'ams' | 'ci';
  kind: string;
  id: string;
}

export interface LoadStats {
  calls: number;
  /** Answers that were errors no step expects (`code: message`). */
  unexpected: string[];
  acknowledged: Acknowledged[];
}

let pem: { cert: string; key: string } | undefined;
/** Made with openssl once, before any load runs (it blocks while it works). */
const PEM = () => (pem ??= selfSigned('soak.example.com'));

const htpasswd = (n: number) => `user${n}:$apr1$abcdefgh$0123456789abcdefghijkl`;

export class MixedLoad {
  readonly stats: LoadStats = { calls: 0, unexpected: [], acknowledged: [] };
  private readonly gaap;
  private readonly ssl;
  private readonly ams;
  private readonly tag;
  private readonly ci;
  private n = 0;

  constructor(port: number, private readonly tidy: boolean) {
    PEM();
    this.gaap = cnClient('gaap', { port });
    this.ssl = cnClient('ssl', { port });
    this.ams = cnClient('ams', { port });
    this.tag = cnClient('tag', { port });
    this.ci = ciClient({ port, account: DEFAULT_ACCOUNT });
  }

  /** One step of the mix, chosen by `r`; false when the server stopped answering. */
  async step(r: Rand): Promise<boolean> {
    const n = ++this.n;
    try {
      switch (r.int(7)) {
        case 0: {
          const { CertificateId } = await this.call(this.gaap.CreateCertificate({ CertificateType: 0, CertificateContent: htpasswd(n), CertificateAlias: `soak-${n}` }));
          this.ack('gaap', 'certificate', CertificateId);
          await this.call(this.gaap.DescribeCertificateDetail({ CertificateId }));
          if (this.tidy) await this.call(this.gaap.DeleteCertificate({ CertificateId }));
          break;
        }
        case 1: {
          // A proxy goes CREATING → RUNNING through a scheduled transition: a kill may land in between.
          const { InstanceId } = await this.call(this.gaap.CreateProxy({ ProjectId: 0, ProxyName: `soak-${n}`, AccessRegion: 'Hongkong', RealServerRegion: 'Beijing', Bandwidth: 10, Concurrent: 2 }));
          this.ack('gaap', 'proxy', InstanceId);
          await this.call(this.tag.ModifyResourceTags({ Resource: `qcs::gaap::uin/${DEFAULT_ACCOUNT.uin}:proxy/${InstanceId}`, ReplaceTags: [{ TagKey: 'soak', TagValue: String(n) }] }));
          await this.call(this.gaap.DescribeProxies({ ProxyIds: [InstanceId] }));
          if (this.tidy) {
            await this.call(this.gaap.CloseProxies({ ProxyIds: [InstanceId] })).catch(() => undefined);
            await this.call(this.gaap.DestroyProxies({ ProxyIds: [InstanceId], Force: 1 })).catch(() => undefined);
          }
          break;
        }
        case 2: {
          const { CertificateId } = await this.call(this.ssl.UploadCertificate({ CertificatePublicKey: PEM().cert, CertificatePrivateKey: PEM().key, Alias: `soak-${n}` }));
          this.ack('ssl', 'certificate', CertificateId);
          await this.call(this.ssl.DescribeCertificateDetail({ CertificateId }));
          if (this.tidy) await this.call(this.ssl.DeleteCertificate({ CertificateId }));
          break;
        }
        case 3: {
          const res = await this.call(this.ams.CreateAudioModerationTask({ BizType: 'soak_biz', Tasks: [{ DataId: `soak-${n}`, Input: { Url: 'https://media.example.com/soak.mp3' } }] }));
          const TaskId = res.Results[0].TaskId;
          this.ack('ams', 'task', TaskId);
          await this.call(this.ams.DescribeTaskDetail({ TaskId }));
          break;
        }
        case 4: {
          const { GroupId } = await this.call(this.gaap.CreateProxyGroup({ ProjectId: 0, GroupName: `soak-${n}`, RealServerRegion: 'Beijing' }));
          this.ack('gaap', 'group', GroupId);
          if (this.tidy) await this.call(this.gaap.DeleteProxyGroup({ GroupId, Force: 1 })).catch(() => undefined);
          break;
        }
        case 5: {
          const submitted = await this.call(this.ci.submit(liveRequest({ dataId: `soak-${n}` })));
          const jobId = submitted.Response.JobsDetail.JobId;
          this.ack('ci', 'job', jobId);
          await this.call(this.ci.query(jobId));
          if (this.tidy) await this.call(this.ci.cancel(jobId));
          break;
        }
        default:
          await this.call(this.gaap.DescribeAccessRegions({}));
          await this.call(this.gaap.DescribeProxies({ Limit: 20 }));
          await this.call(this.ssl.DescribeCertificates({ Limit: 20 }));
      }
      return true;
    } catch (err) {
      return !isConnectionError(err);
    }
  }

  private ack(service: Acknowledged['service'], kind: string, id: string): void {
    this.stats.acknowledged.push({ service, kind, id });
  }

  private async call(p: Promise<any>): Promise<any> {
    this.stats.calls++;
    try {
      return await p;
    } catch (err) {
      if (!isConnectionError(err)) {
        const e = err as { code?: string; message?: string };
        this.stats.unexpected.push(`${e.code ?? 'no code'}: ${String(e.message).slice(0, 200)}`);
      }
      throw err;
    }
  }
}

/** A failure of the connection (server killed or gone), not an answer. */
export function isConnectionError(err: unknown): boolean {
  const text = `${(err as { code?: string })?.code ?? ''} ${(err as Error)?.message ?? ''} ${String((err as { cause?: unknown })?.cause ?? '')}`;
  return /ECONNREFUSED|ECONNRESET|EPIPE|socket hang up|fetch failed|other side closed|ClientNetworkError|network|terminated|UND_ERR/i.test(text);
}
