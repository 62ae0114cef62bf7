import { CosError } from '../../core/errors';
import type { ParsedXml } from '../../core/service';
import { isUrl } from '../common';

/** A live-stream moderation job as submitted (`POST /video/auditing`). */
export interface LiveAuditRequest {
  url: string;
  dataId?: string;
  userInfo?: Record<string, string>;
  bizType: string;
  callback?: string;
  /** 1: every segment; 2: only non-compliant ones. */
  callbackType: 1 | 2;
}

/** Children of Input/UserInfo that are kept, each at most 128 bytes. */
export const USER_INFO_FIELDS = ['TokenId', 'Nickname', 'DeviceId', 'AppId', 'Room', 'IP', 'Type', 'ReceiveTokenId', 'Gender', 'Level', 'Role'] as const;

const bad = (message: string) => new CosError(400, 'InvalidArgument', message);

type Node = { [name: string]: ParsedXml };

function isNode(v: ParsedXml | undefined): v is Node {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function own(node: Node, name: string): ParsedXml | undefined {
  return Object.prototype.hasOwnProperty.call(node, name) ? node[name] : undefined;
}

/** A container element; `<X/>` counts as an empty one. */
function container(parent: Node, name: string, where: string, required: boolean): Node | undefined {
  const v = own(parent, name);
  if (v === undefined) {
    if (required) throw bad(`The element \`${where}\` is required.`);
    return undefined;
  }
  if (Array.isArray(v)) throw bad(`The element \`${where}\` may appear only once.`);
  if (v === '') return {};
  if (!isNode(v)) throw bad(`The element \`${where}\` must contain child elements.`);
  return v;
}

/** A text element. */
function text(parent: Node, name: string, where: string): string | undefined {
  const v = own(parent, name);
  if (v === undefined) return undefined;
  if (typeof v !== 'string') throw bad(`The element \`${where}\` must be a single text value.`);
  return v;
}

const bytes = (s: string) => Buffer.byteLength(s, 'utf8');

/** Checks a submit document; every problem is an InvalidArgument naming the element. */
export function parseSubmit(doc: Record<string, ParsedXml>): LiveAuditRequest {
  const request = container(doc, 'Request', 'Request', true)!;
  const type = text(request, 'Type', 'Request.Type');
  if (type === undefined || type === '') throw bad('The element `Request.Type` is required; use live_video for live stream moderation.');
  if (type !== 'live_video') throw bad(`The value \`${type}\` of \`Request.Type\` is not supported: tclocal emulates live stream moderation only (live_video).`);

  const input = container(request, 'Input', 'Request.Input', true)!;
  const url = text(input, 'Url', 'Request.Input.Url');
  if (!url) throw bad('The element `Request.Input.Url` is required: the address of the live stream.');
  if (!isUrl(url, ['rtmp:', 'rtmps:', 'http:', 'https:'])) {
    throw bad(`The value of \`Request.Input.Url\` is not valid: \`${url}\` is not an rtmp, http(s) or HLS stream address.`);
  }
  const dataId = text(input, 'DataId', 'Request.Input.DataId');
  if (dataId !== undefined && bytes(dataId) > 512) throw bad('The value of `Request.Input.DataId` is not valid: at most 512 bytes.');
  let userInfo: Record<string, string> | undefined;
  const ui = container(input, 'UserInfo', 'Request.Input.UserInfo', false);
  if (ui) {
    userInfo = {};
    for (const field of USER_INFO_FIELDS) {
      const v = text(ui, field, `Request.Input.UserInfo.${field}`);
      if (v === undefined) continue;
      if (bytes(v) > 128) throw bad(`The value of \`Request.Input.UserInfo.${field}\` is not valid: at most 128 bytes.`);
      userInfo[field] = v;
    }
  }

  const conf = container(request, 'Conf', 'Request.Conf', true)!;
  const bizType = text(conf, 'BizType', 'Request.Conf.BizType') ?? '';
  if (bizType !== '' && !/^[A-Za-z0-9_-]{1,64}$/.test(bizType)) throw bad(`The value of \`Request.Conf.BizType\` is not valid: \`${bizType}\` is not a policy id.`);
  const callback = text(conf, 'Callback', 'Request.Conf.Callback') || undefined;
  if (callback !== undefined && !isUrl(callback, ['http:', 'https:'])) {
    throw bad(`The value of \`Request.Conf.Callback\` is not valid: \`${callback}\` is not an http(s) address.`);
  }
  const ct = text(conf, 'CallbackType', 'Request.Conf.CallbackType') || '1';
  if (ct !== '1' && ct !== '2') throw bad(`The value of \`Request.Conf.CallbackType\` is not valid: \`${ct}\`; use 1 or 2.`);

  return { url, dataId: dataId || undefined, userInfo, bizType, callback, callbackType: ct === '2' ? 2 : 1 };
}
