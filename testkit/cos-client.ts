/**
 * The official cos-nodejs-sdk-v5 pointed at tclocal: the `Ip` option sends
 * every request to 127.0.0.1:PORT while the Host header (and the signature)
 * keep the real `<bucket>.ci.<region>.myqcloud.com` address.
 */
import type { AccountConfig } from '../src/config';

// eslint-disable-next-line @typescript-eslint/no-var-requires
export const COS: any = require('cos-nodejs-sdk-v5');

export interface CosTarget {
  port: number;
  account: AccountConfig;
  /** Short bucket name; the account's APPID is appended unless `appId` is given. */
  bucketName?: string;
  appId?: number;
  region?: string;
  extra?: Record<string, unknown>;
}

export interface CiClient {
  cos: any;
  bucket: string;
  region: string;
  host: string;
  submit(xml: string): Promise<any>;
  query(jobId: string): Promise<any>;
  cancel(jobId: string): Promise<any>;
}

export function call(cos: any, params: Record<string, unknown>): Promise<any> {
  return new Promise((resolve, reject) => {
    cos.request(params, (err: any, data: any) => (err ? reject(err) : resolve(data)));
  });
}

export function ciClient(t: CosTarget): CiClient {
  const cos = new COS({ SecretId: t.account.secretId, SecretKey: t.account.secretKey, Ip: `127.0.0.1:${t.port}`, Protocol: 'http:', ...t.extra });
  const bucket = `${t.bucketName ?? 'examplebucket'}-${t.appId ?? t.account.appId}`;
  const region = t.region ?? 'ap-beijing';
  const host = `${bucket}.ci.${region}.myqcloud.com`;
  return {
    cos, bucket, region, host,
    submit: (xml) => call(cos, { Bucket: bucket, Region: region, Method: 'POST', Url: `http://${host}/video/auditing`, Key: '/video/auditing', ContentType: 'application/xml', Body: xml }),
    query: (jobId) => call(cos, { Bucket: bucket, Region: region, Method: 'GET', Url: `http://${host}/video/auditing/${jobId}`, Key: `/video/auditing/${jobId}` }),
    cancel: (jobId) => call(cos, { Bucket: bucket, Region: region, Method: 'POST', Url: `http://${host}/video/cancel_auditing/${jobId}`, Key: `video/cancel_auditing/${jobId}` }),
  };
}

/** A submit body built with the SDK's own XML writer. */
export function liveRequest(o: { url?: string; dataId?: string; bizType?: string; callback?: string; callbackType?: number; userInfo?: Record<string, string> } = {}): string {
  const input: Record<string, unknown> = { Url: o.url ?? 'rtmp://example.com/live/123' };
  if (o.dataId !== undefined) input.DataId = o.dataId;
  if (o.userInfo) input.UserInfo = o.userInfo;
  const conf: Record<string, unknown> = { BizType: o.bizType ?? 'b81d45f94b91a683255e9a9506f45a11' };
  if (o.callback) conf.Callback = o.callback;
  if (o.callbackType !== undefined) conf.CallbackType = o.callbackType;
  return COS.util.json2xml({ Request: { Type: 'live_video', Input: input, Conf: conf } });
}

/** The error an SDK call failed with. */
export async function cosError(p: Promise<unknown>): Promise<{ code: string; statusCode: number; message: string; error: any; headers: any }> {
  try {
    await p;
  } catch (err) {
    return err as any;
  }
  throw new Error('expected the call to fail');
}
