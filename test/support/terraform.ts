/**
 * The rules of Terraform's tencentcloud provider that the GAAP replays
 * follow: which error codes it retries, and when it takes a read of a
 * deleted resource as "not found".
 */

/** Codes the provider retries (exactly, or by the part before the first dot); every other code is fatal. */
const RETRYABLE = [
  'ClientError.NetworkError', 'ClientError.HttpStatusCodeError', 'RequestLimitExceeded', 'ResourceInUse', 'ResourceUnavailable', 'ResourceBusy',
  'InvalidParameter.ActionInProgress', 'OperationDenied.InstanceStatusLimitError', 'UnsupportedOperation.UnsupportedDeleteService', 'FailedOperation.ListenerHasTask',
];

export const retryable = (code: string): boolean => RETRYABLE.includes(code) || RETRYABLE.includes(code.split('.')[0]);

/** The read of a deleted resource fails with an error the provider takes as "not found" (`accept`). */
export async function readsAsGone(read: () => Promise<unknown>, accept: (e: { code: string; message: string }) => boolean): Promise<boolean> {
  try {
    await read();
    return false;
  } catch (e) {
    return accept(e as { code: string; message: string });
  }
}
