/** API 3.0 response bodies: always `{"Response": {..., "RequestId"}}`. */
import { RawJson } from '../../core/raw-json';

export function successBody(result: object, requestId: string): string | Buffer {
  const entries = Object.entries(result);
  if (!entries.some(([, v]) => v instanceof RawJson)) return JSON.stringify({ Response: { ...result, RequestId: requestId } });
  // Fields already serialised are written as they are; bytes stay bytes.
  const parts: Array<string | Buffer> = ['{"Response":{'];
  for (const [k, v] of entries) {
    if (v === undefined) continue;
    parts.push(`${JSON.stringify(k)}:`, v instanceof RawJson ? v.json : JSON.stringify(v), ',');
  }
  parts.push(`"RequestId":${JSON.stringify(requestId)}}}`);
  if (parts.every((p) => typeof p === 'string')) return parts.join('');
  return Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p) : p)));
}

export function errorBody(code: string, message: string, requestId: string): string {
  return JSON.stringify({ Response: { Error: { Code: code, Message: message }, RequestId: requestId } });
}
