/** API 3.0 response bodies: always `{"Response": {..., "RequestId"}}`. */

export function successBody(result: object, requestId: string): string {
  return JSON.stringify({ Response: { ...result, RequestId: requestId } });
}

export function errorBody(code: string, message: string, requestId: string): string {
  return JSON.stringify({ Response: { Error: { Code: code, Message: message }, RequestId: requestId } });
}
