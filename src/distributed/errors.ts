// The one error type of the distributed layer: which operation, on which rank, and the timeout in force, so a
// user reading one rank's log knows what stalled and for how long it waited.
export class DistributedError extends Error {
  constructor(
    message: string,
    readonly operation: string,
    readonly rank?: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'DistributedError';
  }
}

/** The message of a native failure without the binding's function-name prefix ("distAllReduce: ..."). */
export function nativeMessage(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  return text.replace(/^dist[A-Za-z]+: /, '');
}
