// Reading a path only when it is a regular file of bounded size: a device (/dev/zero), a FIFO or a folder
// passed where a file is expected would otherwise hang the reader or grow its buffer without end.
import { closeSync, fstatSync, openSync, readSync, statSync, constants, type Stats } from 'node:fs';

/** What a path is, in words, for error messages. */
export function describeFileType(s: Stats): string {
  if (s.isDirectory()) return 'a folder';
  if (s.isFIFO()) return 'a FIFO (named pipe)';
  if (s.isCharacterDevice()) return 'a character device';
  if (s.isBlockDevice()) return 'a block device';
  if (s.isSocket()) return 'a socket';
  return 'not a regular file';
}

function mib(n: number): string {
  return `${(n / 2 ** 20).toFixed(n < 2 ** 20 ? 3 : 0)} MiB`;
}

/**
 * Throws unless `path` is a regular file (symlinks followed) of at most maxBytes. Messages start with
 * `what` and the path. Returns the file's size.
 */
export function checkRegularFile(path: string, what: string, maxBytes = Infinity): number {
  let s: Stats;
  try {
    s = statSync(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new Error(code === 'ENOENT' ? `${what} not found: ${path}` : `cannot read ${what} ${path}: ${(e as Error).message}`, { cause: e });
  }
  if (!s.isFile()) throw new Error(`${what} ${path} is ${describeFileType(s)}, not a regular file`);
  if (s.size > maxBytes) throw new Error(`${what} ${path} is ${mib(s.size)}, over the ${mib(maxBytes)} limit`);
  return s.size;
}

/**
 * Reads a whole regular file of at most maxBytes. The type is checked on the opened descriptor (O_NONBLOCK,
 * so opening a FIFO does not wait for a writer), which leaves no window for the path to be swapped.
 */
export function readRegularFileSync(path: string, what: string, maxBytes = Infinity): Buffer {
  checkRegularFile(path, what, maxBytes);
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0));
  } catch (e) {
    throw new Error(`cannot read ${what} ${path}: ${(e as Error).message}`, { cause: e });
  }
  try {
    const s = fstatSync(fd);
    if (!s.isFile()) throw new Error(`${what} ${path} is ${describeFileType(s)}, not a regular file`);
    if (s.size > maxBytes) throw new Error(`${what} ${path} is ${mib(s.size)}, over the ${mib(maxBytes)} limit`);
    const buf = Buffer.allocUnsafe(s.size);
    let off = 0;
    while (off < s.size) {
      const n = readSync(fd, buf, off, s.size - off, off);
      if (n === 0) break;
      off += n;
    }
    return off === s.size ? buf : buf.subarray(0, off);
  } finally {
    closeSync(fd);
  }
}
