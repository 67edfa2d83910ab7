// Helpers shared by the annotation-file parsers.
import fs from 'node:fs';
import { DataError, handleBad, type BadItemPolicy } from '../errors.js';
import type { RawItem } from '../dataset.js';
import { readRegularFileSync } from '../../engine/serialization/index.js';
import { decodeUtf8 } from '../text.js';

/** Largest annotation file or manifest read (SOP's and In-Shop's lists are a few MiB). */
export const MAX_TEXT_BYTES = 1024 * 2 ** 20;

export interface FileSourceOptions extends BadItemPolicy {
  /** Check at construction that every referenced image file exists (default true). */
  checkFiles?: boolean;
}

export interface Line {
  /** 1-based line number in the file. */
  no: number;
  text: string;
}

/** Reads a text annotation file as lines (CRLF tolerated, trailing empty lines dropped). */
export function readLines(file: string, what: string): Line[] {
  let bytes: Buffer;
  try {
    bytes = readRegularFileSync(file, what, MAX_TEXT_BYTES);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? ((e as Error).cause as NodeJS.ErrnoException | undefined)?.code;
    throw new DataError(file, code === 'ENOENT' ? `${what} not found` : (e as Error).message, { cause: e });
  }
  const text = decodeUtf8(bytes, file);
  const lines = text.split(/\r?\n/).map((t, i) => ({ no: i + 1, text: t }));
  while (lines.length > 0 && lines[lines.length - 1]!.text.trim() === '') lines.pop();
  return lines;
}

/** Whitespace-separated fields of a line. */
export function fields(line: Line): string[] {
  const t = line.text.trim();
  return t === '' ? [] : t.split(/\s+/);
}

/** Drops items whose file is missing (policy: fail / skip with warning), naming file and annotation line. */
export function checkFilesExist(items: RawItem[], opts: FileSourceOptions): RawItem[] {
  if (opts.checkFiles === false) return items;
  const out: RawItem[] = [];
  for (const it of items) {
    if (it.source.kind === 'file' && !fs.existsSync(it.source.path)) {
      handleBad(opts, new DataError(it.source.path, `image file not found${it.origin ? ` (listed at ${it.origin})` : ''}`));
      continue;
    }
    out.push(it);
  }
  return out;
}

export function parseIntField(s: string | undefined, where: string, what: string): number {
  if (s === undefined || !/^-?\d+$/.test(s)) throw new DataError(where, `${what} must be an integer, got ${s === undefined ? 'nothing' : `'${s}'`}`);
  return Number(s);
}

/** True when `dir` exists and is a directory. */
export function isDir(dir: string): boolean {
  try {
    return fs.statSync(dir).isDirectory();
  } catch {
    return false;
  }
}
