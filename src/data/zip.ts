// Random-access reading of image entries straight from zip archives (yauzl), without unpacking.
// Archives are opened once per absolute path and shared by every dataset that uses them.
import path from 'node:path';
import yauzl from 'yauzl';
import { DataError } from './errors.js';
import { checkImageBytes } from './input-limits.js';

export class ZipArchive {
  private constructor(
    readonly path: string,
    private readonly zip: yauzl.ZipFile,
    /** Entries by full name (directories included, names end with '/'). */
    readonly entries: ReadonlyMap<string, yauzl.Entry>,
  ) {}

  static async open(zipPath: string): Promise<ZipArchive> {
    const abs = path.resolve(zipPath);
    let zip: yauzl.ZipFile;
    try {
      zip = await yauzl.openPromise(abs, { lazyEntries: true, autoClose: false, decodeStrings: true });
    } catch (e) {
      throw new DataError(abs, `cannot open zip archive: ${(e as Error).message}`, { cause: e });
    }
    const entries = new Map<string, yauzl.Entry>();
    await new Promise<void>((resolve, reject) => {
      zip.on('entry', (entry: yauzl.Entry) => {
        entries.set(entry.fileName, entry);
        zip.readEntry();
      });
      zip.on('end', () => resolve());
      zip.on('error', (e: Error) => reject(new DataError(abs, `corrupt zip archive: ${e.message}`, { cause: e })));
      zip.readEntry();
    });
    return new ZipArchive(abs, zip, entries);
  }

  /** Names of file entries (not directories), in archive order. */
  fileNames(): string[] {
    const out: string[] = [];
    for (const name of this.entries.keys()) if (!name.endsWith('/')) out.push(name);
    return out;
  }

  async read(entryName: string): Promise<Buffer> {
    const where = `${this.path}!${entryName}`;
    const entry = this.entries.get(entryName);
    if (!entry) throw new DataError(where, 'no such entry in the zip archive');
    checkImageBytes(where, entry.uncompressedSize);
    try {
      const stream = await this.zip.openReadStreamPromise(entry);
      const chunks: Buffer[] = [];
      for await (const c of stream) chunks.push(c as Buffer);
      return Buffer.concat(chunks);
    } catch (e) {
      throw new DataError(where, `cannot read zip entry: ${(e as Error).message}`, { cause: e });
    }
  }

  close(): void {
    this.zip.close();
    if (openArchives.get(this.path) !== undefined) openArchives.delete(this.path);
  }
}

const openArchives = new Map<string, Promise<ZipArchive>>();

/** Opens (or returns the already opened) archive at `zipPath`. */
export function openZip(zipPath: string): Promise<ZipArchive> {
  const abs = path.resolve(zipPath);
  let p = openArchives.get(abs);
  if (!p) {
    p = ZipArchive.open(abs);
    openArchives.set(abs, p);
    p.catch(() => openArchives.delete(abs));
  }
  return p;
}

/** Closes every archive opened through `openZip` (tests, shutdown). */
export async function closeAllZips(): Promise<void> {
  const all = [...openArchives.values()];
  openArchives.clear();
  for (const p of all) {
    try {
      (await p).close();
    } catch {
      /* failed opens have nothing to close */
    }
  }
}
