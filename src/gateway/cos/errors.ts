/**
 * A failure that is part of a COS-style API: it is answered as an XML
 * `<Error>` document with this code and HTTP status. Anything else thrown
 * by a handler is answered as InternalError.
 */
export class CosError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'CosError';
  }
}

/** Constructors for the codes the protocol layer itself uses. */
export const cosErrors = {
  accessDenied: (message: string) => new CosError(403, 'AccessDenied', message),
  expired: () => new CosError(403, 'AccessDenied', 'Request has expired'),
  notYetValid: (start: number) =>
    new CosError(403, 'RequestTimeTooSkewed', `The signature is not valid before ${start} (q-sign-time); the difference between the request time and the server time is too large.`),
  signatureMismatch: () =>
    new CosError(403, 'SignatureDoesNotMatch', 'The request signature we calculated does not match the signature you provided. Check your key and signing method.'),
  invalidAccessKeyId: (ak: string) => new CosError(403, 'InvalidAccessKeyId', `The SecretId \`${ak}\` does not exist.`),
  invalidArgument: (message: string) => new CosError(400, 'InvalidArgument', message),
  invalidUri: (message: string) => new CosError(400, 'InvalidURI', message),
  invalidHost: (message: string) => new CosError(400, 'InvalidHost', message),
  methodNotAllowed: (method: string, path: string) =>
    new CosError(405, 'MethodNotAllowed', `The method ${method} is not allowed on \`${path}\`.`),
  slowDown: (limit: number) =>
    new CosError(503, 'SlowDown', `Please reduce your request rate: this API accepts at most ${limit} requests per second per account.`),
  entityTooLarge: (max: number) =>
    new CosError(400, 'EntityTooLarge', `The request body exceeds the maximum allowed size of ${max} bytes.`),
  internal: () => new CosError(500, 'InternalError', 'An internal error occurred; see the tclocal log for this RequestId.'),
};
