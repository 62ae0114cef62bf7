import { CosError } from '../../core/errors';

export { CosError };

/** Every code the protocol layer answers, with its HTTP status (fault rules choose among these too). */
export const COS_ERROR_STATUS: Readonly<Record<string, number>> = {
  AccessDenied: 403,
  RequestTimeTooSkewed: 403,
  SignatureDoesNotMatch: 403,
  InvalidAccessKeyId: 403,
  InvalidArgument: 400,
  InvalidURI: 400,
  InvalidHost: 400,
  EntityTooLarge: 400,
  MethodNotAllowed: 405,
  SlowDown: 503,
  InternalError: 500,
};

/** A protocol-level error by code; its status comes from the table above. */
export const cosError = (code: keyof typeof COS_ERROR_STATUS & string, message: string): CosError => new CosError(COS_ERROR_STATUS[code], code, message);

/** Constructors for the codes the protocol layer itself uses. */
export const cosErrors = {
  accessDenied: (message: string) => cosError('AccessDenied', message),
  expired: () => cosError('AccessDenied', 'Request has expired'),
  notYetValid: (start: number) =>
    cosError('RequestTimeTooSkewed', `The signature is not valid before ${start} (q-sign-time); the difference between the request time and the server time is too large.`),
  signatureMismatch: () =>
    cosError('SignatureDoesNotMatch', 'The request signature we calculated does not match the signature you provided. Check your key and signing method.'),
  invalidAccessKeyId: (ak: string) => cosError('InvalidAccessKeyId', `The SecretId \`${ak}\` does not exist.`),
  invalidArgument: (message: string) => cosError('InvalidArgument', message),
  invalidUri: (message: string) => cosError('InvalidURI', message),
  invalidHost: (message: string) => cosError('InvalidHost', message),
  methodNotAllowed: (method: string, path: string) => cosError('MethodNotAllowed', `The method ${method} is not allowed on \`${path}\`.`),
  slowDown: (limit: number) =>
    cosError('SlowDown', `Please reduce your request rate: this API accepts at most ${limit} requests per second per account.`),
  entityTooLarge: (max: number) => cosError('EntityTooLarge', `The request body exceeds the maximum allowed size of ${max} bytes.`),
  internal: () => cosError('InternalError', 'An internal error occurred; see the tclocal log for this RequestId.'),
};
