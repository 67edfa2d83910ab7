// Error policy of the data layer.
//
// Every problem with the data (missing or corrupt image, unknown label, empty class, malformed annotation
// line) raises a `DataError` whose message names the file path / zip entry / annotation line at fault, at
// dataset construction where that is cheap, and at load time for decode failures. With
// `onBadItem: 'skip'` the offending item (or class) is dropped instead and a warning goes to `warn`
// (default: `process.emitWarning`). Nothing is allowed to reach the engine as a shape error.

export type OnBadItem = 'fail' | 'skip';

export interface BadItemPolicy {
  /** 'fail' (default): throw a DataError. 'skip': drop the item/class and warn. */
  onBadItem?: OnBadItem;
  /** Receives skip warnings; default `process.emitWarning(msg, 'DataWarning')`. */
  warn?: (message: string) => void;
}

export class DataError extends Error {
  /** The file path, `zip!entry`, `file:line` or memory index at fault. */
  readonly where: string;
  constructor(where: string, message: string, options?: { cause?: unknown }) {
    super(`${where}: ${message}`, options);
    this.name = 'DataError';
    this.where = where;
  }
}

export function defaultWarn(message: string): void {
  process.emitWarning(message, 'DataWarning');
}

/**
 * Applies the policy: throws the error under 'fail', warns and returns under 'skip'.
 * Returns normally only when the caller should skip the item.
 */
export function handleBad(policy: BadItemPolicy | undefined, err: DataError): void {
  if ((policy?.onBadItem ?? 'fail') === 'fail') throw err;
  (policy?.warn ?? defaultWarn)(`skipped: ${err.message}`);
}

export function checkPolicy(p: BadItemPolicy | undefined): void {
  const v = p?.onBadItem;
  if (v !== undefined && v !== 'fail' && v !== 'skip') throw new Error(`onBadItem must be 'fail' or 'skip', got ${JSON.stringify(v)}`);
}
