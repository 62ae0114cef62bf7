/**
 * Header names a custom-header rule may not set (DescribeBlackHeader; the
 * L7 CreateCustomHeader check uses the same list): exactly the document's
 * example answer. The output description's malformed sample value
 * (`[{"X-REAL_IP","remote_addr"}]`) is not taken over: the document's own
 * CreateCustomHeader example sets `X-REAL_IP`.
 */
export const BLACK_HEADERS: readonly string[] = ['X-Forward-For', 'allow'];
