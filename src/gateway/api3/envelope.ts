/** API 3.0 response bodies: always `{"Response": {..., "RequestId"}}`. */
import { RawJson } from '../../core/raw-json';

export function successBody(result: object, requestId: string): string {
  const entries = Object.entries(result);
  if (!entries.some(([, v]) => v instanceof RawJson)) return JSON.stringify({ Response: { ...result, RequestId: requestId } });
  // Fields already serialised are written as they are.
  let body = '{"Response":{';
  for (const [k, v] of entries) {
    if (v === undefined) continue;
    body += `${JSON.stringify(k)}:${v instanceof RawJson ? v.json : JSON.stringify(v)},`;
  }
  return `${body}"RequestId":${JSON.stringify(requestId)}}}`;
}

export function errorBody(code: string, message: string, requestId: string): string {
  return JSON.stringify({ Response: { Error: { Code: code, Message: message }, RequestId: requestId } });
}
