/**
 * Header names a custom-header rule may not set (DescribeBlackHeader; the
 * L7 CreateCustomHeader check uses the same list): headers the proxy itself
 * writes or that control the connection. The first two are the document's
 * example answer; the output description's example adds `X-REAL_IP` and
 * `remote_addr`.
 */
export const BLACK_HEADERS: readonly string[] = [
  'X-Forward-For',
  'allow',
  'X-REAL_IP',
  'remote_addr',
  'X-Forwarded-For',
  'X-Real-IP',
  'Host',
  'Connection',
  'Content-Length',
  'Transfer-Encoding',
  'Upgrade',
  'Keep-Alive',
  'Proxy-Connection',
  'TE',
  'Trailer',
];
