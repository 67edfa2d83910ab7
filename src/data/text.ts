// Text inputs (annotation files, CSV manifests, configs) must be UTF-8: bytes that are not are reported with
// the file and the line, instead of being replaced by U+FFFD and turning into a "file not found" later.
import { DataError } from './errors.js';

const strict = new TextDecoder('utf-8', { fatal: true });

/** Decodes UTF-8 (a BOM is dropped); invalid bytes throw a DataError naming `what` and the line. */
export function decodeUtf8(bytes: Uint8Array, what: string): string {
  try {
    const text = strict.decode(bytes);
    return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  } catch {
    const lenient = new TextDecoder('utf-8').decode(bytes);
    const line = lenient.slice(0, lenient.indexOf('\ufffd')).split('\n').length;
    throw new DataError(`${what}:${line}`, 'is not valid UTF-8 text (save it as UTF-8)');
  }
}
