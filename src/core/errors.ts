/**
 * A failure that is part of the API: it becomes an error envelope with this
 * code and message. Anything else thrown by a handler is answered as
 * InternalError.
 */
export class ApiError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

/**
 * A failure that is part of a COS-style XML API: the gateway answers it as
 * an XML `<Error>` document with this code and HTTP status. Anything else
 * thrown by a route handler is answered as InternalError.
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

export const missingParameter = (name: string) =>
  new ApiError('MissingParameter', `The request is missing a required parameter \`${name}\`.`);

export const unknownParameter = (name: string) =>
  new ApiError('UnknownParameter', `The parameter \`${name}\` is not recognized.`);

export const invalidParameter = (name: string, expected: string) =>
  new ApiError('InvalidParameter', `The value of parameter \`${name}\` is not valid: expected ${expected}.`);

export const invalidParameterValue = (name: string, why: string, code = 'InvalidParameterValue') =>
  new ApiError(code, `The value of parameter \`${name}\` is not valid: ${why}.`);

export const resourceNotFound = (what: string, id: string | number, code = 'ResourceNotFound') =>
  new ApiError(code, `The ${what} \`${id}\` does not exist.`);
