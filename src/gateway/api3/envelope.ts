/** API 3.0 response bodies: always `{"Response": {..., "RequestId"}}`. */
import { RawJson } from '../../core/raw-json';

/**
 * A body as text, or as byte chunks written one after another: fields
 * already serialised (pages read from the store) go out as they are, never
 * copied into one buffer.
 */
export type ResponseBody = string | Buffer[];

export function successBody(result: object, requestId: string): ResponseBody {
  const entries = Object.entries(result);
  if (!entries.some(([, v]) => v instanceof RawJson)) return JSON.stringify({ Response: { ...result, RequestId: requestId } });
  const chunks: Buffer[] = [];
  let text = '{"Response":{';
  for (const [k, v] of entries) {
    if (v === undefined) continue;
    text += `${JSON.stringify(k)}:`;
    if (v instanceof RawJson && typeof v.json !== 'string') {
      chunks.push(Buffer.from(text), v.json);
      text = ',';
    } else {
      text += `${v instanceof RawJson ? v.json : JSON.stringify(v)},`;
    }
  }
  text += `"RequestId":${JSON.stringify(requestId)}}}`;
  if (chunks.length === 0) return text;
  chunks.push(Buffer.from(text));
  return chunks;
}

export function errorBody(code: string, message: string, requestId: string): string {
  return JSON.stringify({ Response: { Error: { Code: code, Message: message }, RequestId: requestId } });
}
