// CSV manifest: a header line naming at least the columns `path` and `label`, optionally `split`
// (other columns are ignored). Paths may be absolute or relative to the CSV file's folder. Labels are
// class names (any string; integers sort numerically). Split values must be in `allowedSplits`.
// Fields may be double-quoted ("a, b" and "" escapes as in RFC 4180).
import path from 'node:path';
import { DataError, handleBad } from '../errors.js';
import { ImageDataset, type RawItem } from '../dataset.js';
import { checkFilesExist, MAX_TEXT_BYTES, type FileSourceOptions } from './common.js';
import { readRegularFileSync } from '../../engine/serialization/index.js';
import { decodeUtf8 } from '../text.js';

export const DEFAULT_SPLITS: readonly string[] = ['train', 'val', 'test', 'query', 'gallery'];

export interface CsvManifestOptions extends FileSourceOptions {
  /** Accepted split values (default train, val, test, query, gallery). */
  allowedSplits?: readonly string[];
  /** Class order; labels not listed are unknown labels (policy). Default: sorted distinct labels. */
  classes?: readonly string[];
  name?: string;
}

/** Splits one CSV record (no embedded newlines). Throws on an unterminated quote. */
export function splitCsvLine(line: string, where: string): string[] {
  const out: string[] = [];
  let i = 0;
  for (;;) {
    let field = '';
    if (line[i] === '"') {
      i++;
      for (;;) {
        if (i >= line.length) throw new DataError(where, 'unterminated quoted field');
        if (line[i] === '"') {
          if (line[i + 1] === '"') {
            field += '"';
            i += 2;
          } else {
            i++;
            break;
          }
        } else field += line[i++];
      }
      if (i < line.length && line[i] !== ',') throw new DataError(where, `unexpected character '${line[i]}' after a quoted field`);
    } else {
      const j = line.indexOf(',', i);
      field = j < 0 ? line.slice(i) : line.slice(i, j);
      i = j < 0 ? line.length : j;
    }
    out.push(field.trim());
    if (i >= line.length) return out;
    i++; // skip comma
  }
}

export function loadCsvManifest(csvPath: string, opts: CsvManifestOptions = {}): ImageDataset {
  const abs = path.resolve(csvPath);
  let bytes: Buffer;
  try {
    bytes = readRegularFileSync(abs, 'CSV manifest', MAX_TEXT_BYTES);
  } catch (e) {
    throw new DataError(abs, `cannot read CSV manifest: ${(e as Error).message}`, { cause: e });
  }
  const text = decodeUtf8(bytes, abs);
  const lines = text.split(/\r?\n/);
  const dir = path.dirname(abs);
  const header = splitCsvLine(lines[0] ?? '', `${abs}:1`).map((h) => h.toLowerCase());
  const pathCol = header.indexOf('path');
  const labelCol = header.indexOf('label');
  const splitCol = header.indexOf('split');
  if (pathCol < 0 || labelCol < 0) {
    throw new DataError(`${abs}:1`, `header must name the columns 'path' and 'label' (and optionally 'split'), got '${lines[0] ?? ''}'`);
  }
  const allowed = new Set(opts.allowedSplits ?? DEFAULT_SPLITS);
  const raw: RawItem[] = [];
  for (let n = 1; n < lines.length; n++) {
    const line = lines[n]!;
    if (line.trim() === '') continue;
    const where = `${abs}:${n + 1}`;
    try {
      const f = splitCsvLine(line, where);
      if (f.length !== header.length) throw new DataError(where, `expected ${header.length} columns (${header.join(',')}), got ${f.length}: '${line}'`);
      const p = f[pathCol]!;
      const label = f[labelCol]!;
      if (p === '') throw new DataError(where, 'empty path');
      if (label === '') throw new DataError(where, 'empty label');
      let split: string | undefined;
      if (splitCol >= 0) {
        split = f[splitCol]!;
        if (!allowed.has(split)) throw new DataError(where, `unknown split value '${split}' (allowed: ${[...allowed].join(', ')})`);
      }
      raw.push({ source: { kind: 'file', path: path.resolve(dir, p) }, className: label, split, origin: where });
    } catch (e) {
      if (!(e instanceof DataError)) throw e;
      handleBad(opts, e);
    }
  }
  if (raw.length === 0) throw new DataError(abs, 'CSV manifest lists no images');
  const items = checkFilesExist(raw, opts);
  return ImageDataset.build(opts.name ?? path.basename(abs, path.extname(abs)), items, {
    classOrder: opts.classes,
    onBadItem: opts.onBadItem,
    warn: opts.warn,
  });
}
