// Limits on what an image input may be, checked before its bytes are read or decoded: a path that is not
// a regular file (/dev/zero, a FIFO, a folder) would hang or exhaust the reader, and a file of gigabytes or an
// image of billions of pixels (a decompression bomb) would exhaust memory.
import { open, constants, type FileHandle } from 'node:fs/promises';
import { describeFileType } from '../engine/serialization/index.js';
import { DataError } from './errors.js';

/** Largest image file (or zip entry) read, in bytes. */
export const MAX_IMAGE_BYTES = 256 * 2 ** 20;
/** Largest image decoded, in pixels (width x height); sharp's own default is 268 million. */
export const MAX_IMAGE_PIXELS = 100_000_000;

function mib(n: number): string {
  return `${(n / 2 ** 20).toFixed(1)} MiB`;
}

/** Throws a DataError naming `where` when a byte count is over the limit. */
export function checkImageBytes(where: string, bytes: number): void {
  if (bytes > MAX_IMAGE_BYTES) throw new DataError(where, `image is ${mib(bytes)}, over the ${mib(MAX_IMAGE_BYTES)} limit`);
}

/** Throws a DataError naming `where` when width x height is over the pixel limit. */
export function checkImagePixels(where: string, width: number, height: number): void {
  if (width * height > MAX_IMAGE_PIXELS) {
    throw new DataError(where, `image is ${width}x${height} (${((width * height) / 1e6).toFixed(0)} Mpx), over the ${MAX_IMAGE_PIXELS / 1e6} Mpx limit`);
  }
}

/**
 * Reads an image file: only a regular file within MAX_IMAGE_BYTES, checked on the opened descriptor
 * (opened non-blocking, so a FIFO without a writer does not hang the open). Errors are DataErrors naming it.
 */
export async function readImageFile(path: string): Promise<Buffer> {
  let fh: FileHandle;
  try {
    fh = await open(path, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0));
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new DataError(path, code === 'ENOENT' ? 'image file not found' : `cannot read image file: ${(e as Error).message}`, { cause: e });
  }
  try {
    const s = await fh.stat();
    if (!s.isFile()) throw new DataError(path, `is ${describeFileType(s)}, not a regular image file`);
    checkImageBytes(path, s.size);
    const buf = Buffer.allocUnsafe(s.size);
    let off = 0;
    while (off < s.size) {
      const { bytesRead } = await fh.read(buf, off, s.size - off, off);
      if (bytesRead === 0) break;
      off += bytesRead;
    }
    return off === s.size ? buf : buf.subarray(0, off);
  } catch (e) {
    if (e instanceof DataError) throw e;
    throw new DataError(path, `cannot read image file: ${(e as Error).message}`, { cause: e });
  } finally {
    await fh.close();
  }
}
