// A persistent approximate-nearest-neighbour index of embeddings with each item's id, path and label.
//
// Engine: usearch's HNSW graph (in process; f32, f16 or i8 storage of the graph's vectors). Beside it, the
// index keeps every vector in float32 for the exact re-rank of the graph's candidates, and the item metadata.
//
// On disk an index is a folder:
//   manifest.json      format, dimensions, HNSW settings, the model the vectors come from, and how much of
//                      the two logs below is committed; replaced atomically: it is the commit point
//   vectors.f32        append-only float32 rows; an item's key is its row number
//                      (vectors-<gen>.f32 and items-<gen>.jsonl after compact(), which renumbers the live items)
//   items.jsonl        append-only log of {"op":"add","key","id","path","label"} and {"op":"remove","key"}
//   ann-<gen>.usearch  a snapshot of the HNSW graph covering the log up to manifest.ann.itemsBytes
// Metadata choice: the items are few bytes each and the server holds them in memory anyway; a log committed
// by the same manifest rename as the vectors and the graph keeps all three consistent after a crash at any
// point (bytes past the committed lengths are ignored and overwritten), which a separate SQLite store could
// not do without the same two-phase scheme, and it needs no native module of its own. Incremental adds and
// removes append to the logs; the graph is re-saved only when the part of the log it does not cover grows
// past a threshold (that part is replayed into the graph on open).
import {
  closeSync,
  existsSync,
  fstatSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readFileSync,
  readSync,
  readdirSync,
  renameSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { join, resolve } from 'node:path';
import { Index as HnswGraph, MetricKind, ScalarKind, type BatchMatches, type Matches } from 'usearch';
import { writeFileAtomic } from '../engine/serialization/index.js';
import { rowDistance, nearestRows, rerankCandidates, type RowHit } from './exact.js';
import { checkSameModel, type ModelIdentity } from './model-identity.js';
import { IndexLock } from './lock.js';

export const INDEX_FORMAT = 'ccp-dml-index';
export const INDEX_VERSION = 1;
import { QUANTIZATIONS, type Quantization } from './quantization.js';
export { QUANTIZATIONS, type Quantization };

export interface IndexItem {
  /** Unique within the index. */
  id: string;
  path: string | null;
  label: string | null;
  /** pixelDigest() of the image the vector was embedded from (absent for vectors added as vectors). */
  digest?: string | null;
}

export interface Neighbour extends Omit<IndexItem, 'digest'> {
  /** Exact Euclidean distance between the query and the item's stored vector. */
  distance: number;
}

export interface HnswSettings {
  /** Graph degree M (default 16). */
  connectivity: number;
  /** Candidate list size while inserting (default 128). */
  expansionAdd: number;
  /**
   * Candidates fetched from the graph per query before the exact re-rank, which is also the graph search's
   * list size (ef) (default 64; a search's `candidates` overrides it).
   */
  expansionSearch: number;
}

export interface CreateIndexOptions extends Partial<HnswSettings> {
  dim: number;
  model: ModelIdentity;
  /** Storage of the graph's vectors (the re-rank always uses float32). Default 'f32'. */
  quantization?: Quantization;
}

export interface SearchOptions {
  k: number;
  /** Only items with this label. */
  label?: string;
  /** Approximate candidates fetched before the exact re-rank (default: the index's expansionSearch; at least k). */
  candidates?: number;
}

interface Manifest {
  format: string;
  version: number;
  generation: number;
  dim: number;
  metric: 'l2';
  quantization: Quantization;
  hnsw: HnswSettings;
  model: ModelIdentity;
  /** Rows of vectors.f32 that are committed (= keys handed out). */
  rows: number;
  /** Committed bytes of items.jsonl. */
  itemsBytes: number;
  /** The graph snapshot and the log prefix it covers. */
  ann: { file: string; itemsBytes: number } | null;
  /** The vectors and item log files (written anew by compact(); absent before the first compaction). */
  files?: { vectors: string; items: string };
  created: string;
  updated: string;
}

type LogRecord = { op: 'add'; key: number; id: string; path: string | null; label: string | null; digest?: string } | { op: 'remove'; key: number };

const MANIFEST = 'manifest.json';
const VECTORS = 'vectors.f32';
const ITEMS = 'items.jsonl';

export class VectorIndex {
  readonly dir: string;
  private manifest: Manifest;
  private ann: HnswGraph;
  /** float32 rows, key = row; capacity grows by doubling. */
  private vectors: Float32Array;
  private rows: number;
  private readonly itemsByKey = new Map<number, IndexItem>();
  private readonly keyById = new Map<string, number>();
  private readonly keysByLabel = new Map<string, Set<number>>();
  private readonly keyByDigest = new Map<string, number>();
  private pendingLog: string[] = [];
  private uncoveredRecords = 0;
  private readonly lock: IndexLock | null;
  private closed = false;

  private constructor(dir: string, manifest: Manifest, lock: IndexLock | null) {
    this.dir = dir;
    this.manifest = manifest;
    this.lock = lock;
    this.ann = VectorIndex.newGraph(manifest);
    this.vectors = new Float32Array(Math.max(manifest.rows, 1024) * manifest.dim);
    this.rows = 0;
  }

  private static newGraph(m: Manifest): HnswGraph {
    const quantization = { f32: ScalarKind.F32, f16: ScalarKind.F16, i8: ScalarKind.I8 }[m.quantization];
    return new HnswGraph({
      dimensions: m.dim,
      metric: MetricKind.L2sq,
      quantization,
      connectivity: m.hnsw.connectivity,
      expansion_add: m.hnsw.expansionAdd,
      expansion_search: 1,
      multi: false,
    });
  }

  /** A new, empty index in `dir` (created; it must not hold an index already). */
  static create(dir: string, o: CreateIndexOptions): VectorIndex {
    const abs = resolve(dir);
    if (existsSync(join(abs, MANIFEST))) throw new Error(`${dir} already holds an index (remove the folder first, or add to it with 'index add')`);
    if (!Number.isInteger(o.dim) || o.dim < 1) throw new Error(`index: dim must be a positive integer, got ${o.dim}`);
    const quantization = o.quantization ?? 'f32';
    if (!QUANTIZATIONS.includes(quantization)) throw new Error(`index: quantization must be one of ${QUANTIZATIONS.join(', ')}, got '${quantization}'`);
    mkdirSync(abs, { recursive: true });
    const hnsw: HnswSettings = { connectivity: o.connectivity ?? 16, expansionAdd: o.expansionAdd ?? 128, expansionSearch: o.expansionSearch ?? 64 };
    for (const [k, v] of Object.entries(hnsw)) if (!Number.isInteger(v) || v < 2) throw new Error(`index: ${k} must be an integer >= 2, got ${v}`);
    const now = new Date().toISOString();
    const manifest: Manifest = {
      format: INDEX_FORMAT,
      version: INDEX_VERSION,
      generation: 0,
      dim: o.dim,
      metric: 'l2',
      quantization,
      hnsw,
      model: o.model,
      rows: 0,
      itemsBytes: 0,
      ann: null,
      created: now,
      updated: now,
    };
    const index = new VectorIndex(abs, manifest, IndexLock.acquire(abs));
    index.writeManifest();
    return index;
  }

  /**
   * Opens an index. With `model`, refuses (naming both) when the index was built with another model.
   * `readOnly` takes no writer lock (a server and a CLI search can read at once; one writer at a time).
   */
  static open(dir: string, o: { model?: ModelIdentity; readOnly?: boolean } = {}): VectorIndex {
    const abs = resolve(dir);
    const mpath = join(abs, MANIFEST);
    if (!existsSync(mpath)) throw new Error(`${dir} is not an index: no ${MANIFEST} (build one with 'ccp-dml index build')`);
    let manifest: Manifest;
    try {
      manifest = JSON.parse(readFileSync(mpath, 'utf8')) as Manifest;
    } catch (e) {
      throw new Error(`${mpath}: not valid JSON (${(e as Error).message})`);
    }
    if (manifest.format !== INDEX_FORMAT) throw new Error(`${mpath}: not a ccp-dml index (format '${String(manifest.format)}')`);
    if (manifest.version !== INDEX_VERSION) throw new Error(`${mpath}: index format version ${manifest.version}, this ccp-dml reads version ${INDEX_VERSION}`);
    if (o.model) checkSameModel(`index ${dir}`, manifest.model, o.model);
    const index = new VectorIndex(abs, manifest, o.readOnly ? null : IndexLock.acquire(abs));
    try {
      index.load();
    } catch (e) {
      index.lock?.release();
      throw e;
    }
    return index;
  }

  private load(): void {
    const m = this.manifest;
    // Vectors: the committed rows only (a crash may have left an uncommitted tail).
    const bytes = m.rows * m.dim * 4;
    if (bytes) {
      const fd = openSync(join(this.dir, this.vectorsFile), 'r');
      try {
        if (fstatSync(fd).size < bytes)
          throw new Error(`${join(this.dir, this.vectorsFile)}: shorter than the ${m.rows} committed rows (the index is damaged)`);
        const buf = new Uint8Array(this.vectors.buffer, 0, bytes);
        let off = 0;
        while (off < bytes) {
          const n = readSync(fd, buf, off, bytes - off, off);
          if (n === 0) throw new Error(`${join(this.dir, this.vectorsFile)}: unexpected end of file`);
          off += n;
        }
      } finally {
        closeSync(fd);
      }
    }
    this.rows = m.rows;
    // Graph snapshot, then the log: metadata for every record, graph updates for the records it misses.
    if (m.ann) this.ann.load(join(this.dir, m.ann.file));
    const covered = m.ann?.itemsBytes ?? 0;
    if (m.itemsBytes) {
      const text = readFileSync(join(this.dir, this.itemsFile)).subarray(0, m.itemsBytes);
      let start = 0;
      let line = 1;
      while (start < text.length) {
        let end = text.indexOf(10, start);
        if (end < 0) end = text.length;
        const rec = JSON.parse(text.subarray(start, end).toString('utf8')) as LogRecord;
        if (rec.op === 'add' && !(rec.key < this.rows)) throw new Error(`${join(this.dir, this.itemsFile)}:${line}: key ${rec.key} has no committed vector`);
        this.apply(rec, start >= covered);
        start = end + 1;
        line++;
      }
    }
  }

  /** Applies a log record to the metadata (and to the graph when `toGraph`). */
  private apply(rec: LogRecord, toGraph: boolean): void {
    if (rec.op === 'add') {
      const item: IndexItem = { id: rec.id, path: rec.path, label: rec.label, ...(rec.digest ? { digest: rec.digest } : {}) };
      this.itemsByKey.set(rec.key, item);
      this.keyById.set(item.id, rec.key);
      if (rec.digest && !this.keyByDigest.has(rec.digest)) this.keyByDigest.set(rec.digest, rec.key);
      if (item.label !== null) {
        let s = this.keysByLabel.get(item.label);
        if (!s) {
          s = new Set();
          this.keysByLabel.set(item.label, s);
        }
        s.add(rec.key);
      }
      if (toGraph) this.ann.add(BigInt(rec.key), this.row(rec.key));
    } else {
      const item = this.itemsByKey.get(rec.key);
      if (!item) return;
      this.itemsByKey.delete(rec.key);
      this.keyById.delete(item.id);
      if (item.digest && this.keyByDigest.get(item.digest) === rec.key) this.keyByDigest.delete(item.digest);
      if (item.label !== null) this.keysByLabel.get(item.label)?.delete(rec.key);
      if (toGraph) this.ann.remove(BigInt(rec.key));
    }
    if (toGraph) this.uncoveredRecords++;
  }

  private get vectorsFile(): string {
    return this.manifest.files?.vectors ?? VECTORS;
  }

  private get itemsFile(): string {
    return this.manifest.files?.items ?? ITEMS;
  }

  private row(key: number): Float32Array {
    return this.vectors.subarray(key * this.dim, (key + 1) * this.dim);
  }

  get dim(): number {
    return this.manifest.dim;
  }

  get model(): ModelIdentity {
    return this.manifest.model;
  }

  /** Live items. */
  get size(): number {
    return this.itemsByKey.size;
  }

  /** Number of labels with at least one live item. */
  get labels(): string[] {
    return [...this.keysByLabel]
      .filter(([, s]) => s.size > 0)
      .map(([l]) => l)
      .sort();
  }

  has(id: string): boolean {
    return this.keyById.has(id);
  }

  get(id: string): (IndexItem & { vector: Float32Array }) | undefined {
    const key = this.keyById.get(id);
    if (key === undefined) return undefined;
    return { ...this.itemsByKey.get(key)!, vector: this.row(key).slice() };
  }

  /** The stored vector of an item embedded from exactly these pixels (see pixelDigest), if any. */
  vectorByDigest(digest: string): Float32Array | undefined {
    const key = this.keyByDigest.get(digest);
    return key === undefined ? undefined : this.row(key).slice();
  }

  /** All live items in key order. */
  items(): IndexItem[] {
    return [...this.itemsByKey.entries()].sort((a, b) => a[0] - b[0]).map(([, it]) => it);
  }

  private checkVector(v: Float32Array, where: string): void {
    if (v.length !== this.dim) throw new Error(`${where}: vector has ${v.length} values, the index holds ${this.dim}-d vectors`);
    for (let j = 0; j < v.length; j++) if (!Number.isFinite(v[j])) throw new Error(`${where}: vector value ${j} is ${v[j]}, not a finite number`);
  }

  /**
   * Adds items with their vectors (row-major [items.length, dim]). Ids must be new (an id already in the
   * index, or twice in the call, is an error naming it). Call save() to make the change durable.
   */
  add(items: readonly IndexItem[], vectors: Float32Array, o: { threads?: number } = {}): void {
    this.checkOpen(true);
    const n = items.length;
    const d = this.dim;
    if (vectors.length !== n * d) throw new Error(`index add: ${n} items need ${n * d} vector values (${n} x ${d}), got ${vectors.length}`);
    const seen = new Set<string>();
    items.forEach((it, i) => {
      if (typeof it.id !== 'string' || it.id.length === 0) throw new Error(`index add: item ${i} has no id`);
      if (this.keyById.has(it.id)) throw new Error(`index add: id '${it.id}' is already in the index (remove it first)`);
      if (seen.has(it.id)) throw new Error(`index add: id '${it.id}' appears twice`);
      seen.add(it.id);
      this.checkVector(vectors.subarray(i * d, (i + 1) * d), `index add: item '${it.id}'`);
    });
    if ((this.rows + n) * d > this.vectors.length) {
      let cap = this.vectors.length / d;
      while (cap < this.rows + n) cap *= 2;
      const grown = new Float32Array(cap * d);
      grown.set(this.vectors.subarray(0, this.rows * d));
      this.vectors = grown;
    }
    const first = this.rows;
    this.vectors.set(vectors, first * d);
    this.rows += n;
    const keys = new BigUint64Array(n);
    items.forEach((it, i) => {
      const rec: LogRecord = {
        op: 'add',
        key: first + i,
        id: it.id,
        path: it.path ?? null,
        label: it.label ?? null,
        ...(it.digest ? { digest: it.digest } : {}),
      };
      this.pendingLog.push(JSON.stringify(rec));
      this.apply(rec, false);
      keys[i] = BigInt(first + i);
    });
    if (n) this.ann.add(keys, vectors, o.threads ?? 0);
    this.uncoveredRecords += n;
  }

  /** Removes items by id; unknown ids are an error naming them (nothing is removed then). */
  remove(ids: readonly string[]): void {
    this.checkOpen(true);
    const unknown = ids.filter((id) => !this.keyById.has(id));
    if (unknown.length)
      throw new Error(
        `index remove: no item with id ${unknown
          .slice(0, 5)
          .map((i) => `'${i}'`)
          .join(', ')}${unknown.length > 5 ? ` (and ${unknown.length - 5} more)` : ''}`,
      );
    for (const id of new Set(ids)) {
      const rec: LogRecord = { op: 'remove', key: this.keyById.get(id)! };
      this.pendingLog.push(JSON.stringify(rec));
      this.apply(rec, true);
    }
  }

  /**
   * The k nearest items to `query` by exact Euclidean distance among the graph's candidates (or among all
   * items of `label` when that label has few enough items to scan exactly). Runs on the calling thread.
   */
  search(query: Float32Array, o: SearchOptions): Neighbour[] {
    this.checkOpen(false);
    this.checkVector(query, 'search');
    return this.searchChecked(query, 1, o, 1)[0]!;
  }

  /**
   * search() for many queries at once (row-major [n, dim]): one call into the graph, which spreads the
   * queries over `threads` threads (default: all cores), then the exact re-rank of each query's candidates.
   */
  searchBatch(queries: Float32Array, o: SearchOptions & { threads?: number }): Neighbour[][] {
    this.checkOpen(false);
    const d = this.dim;
    if (queries.length === 0 || queries.length % d !== 0) throw new Error(`search: ${queries.length} query values are not a whole number of ${d}-d vectors`);
    const n = queries.length / d;
    for (let i = 0; i < n; i++) this.checkVector(queries.subarray(i * d, (i + 1) * d), `search: query ${i}`);
    return this.searchChecked(queries, n, o, o.threads ?? 0);
  }

  private searchChecked(queries: Float32Array, n: number, o: SearchOptions, threads: number): Neighbour[][] {
    if (!Number.isInteger(o.k) || o.k < 1) throw new Error(`search: k must be a positive integer, got ${o.k}`);
    if (o.candidates !== undefined && (!Number.isInteger(o.candidates) || o.candidates < 1))
      throw new Error(`search: candidates must be a positive integer, got ${o.candidates}`);
    const d = this.dim;
    if (o.label !== undefined) return Array.from({ length: n }, (_, i) => this.searchLabel(queries.subarray(i * d, (i + 1) * d), o.label!, o));
    if (this.size === 0) return Array.from({ length: n }, () => []);
    // Asking for as many candidates as there are items means an exact answer: scan, because a graph walk
    // (even with a list that long) can miss live items behind removed ones.
    if (this.candidateCount(o) >= this.size)
      return Array.from({ length: n }, (_, i) =>
        this.toNeighbours(nearestRows(queries.subarray(i * d, (i + 1) * d), this.vectors, d, this.itemsByKey.keys(), o.k)),
      );
    // The graph's list size is the candidate count (the graph itself is built with expansion_search 1).
    const want = this.candidateCount(o);
    const r = this.ann.search(queries, want, threads) as Matches | BatchMatches;
    const keys = r.keys;
    const counts = 'counts' in r ? r.counts : [BigInt(keys.length)];
    const out: Neighbour[][] = new Array(n);
    for (let i = 0; i < n; i++) out[i] = this.toNeighbours(rerankCandidates(queries, i, this.vectors, d, keys, i * want, Number(counts[i]), o.k));
    return out;
  }

  /** Candidates fetched from the graph per query: `candidates`, else the index's expansionSearch; at least k. */
  private candidateCount(o: SearchOptions): number {
    return Math.max(o.candidates ?? this.manifest.hnsw.expansionSearch, o.k);
  }

  private searchLabel(query: Float32Array, label: string, o: SearchOptions): Neighbour[] {
    const keys = this.keysByLabel.get(label);
    if (!keys || keys.size === 0) return [];
    const want = this.candidateCount(o);
    if (keys.size <= Math.max(4096, want)) return this.toNeighbours(nearestRows(query, this.vectors, this.dim, keys, o.k));
    // Widen the approximate search until enough candidates of the label are found (or the index is exhausted).
    let c = want;
    let found: number[] = [];
    for (;;) {
      found = this.annCandidates(query, c).filter((key) => keys.has(key));
      if (found.length >= Math.min(want, keys.size) || c >= this.size) break;
      c *= 4;
    }
    return this.toNeighbours(nearestRows(query, this.vectors, this.dim, found, o.k));
  }

  /** Item metadata for the re-ranked hits only (the candidates never touch it). */
  private toNeighbours(hits: RowHit[]): Neighbour[] {
    return hits.map((h) => {
      const it = this.itemsByKey.get(h.row)!;
      return { id: it.id, path: it.path, label: it.label, distance: h.distance };
    });
  }

  private annCandidates(query: Float32Array, count: number): number[] {
    if (this.size === 0) return [];
    const r = this.ann.search(query, Math.min(count, this.size), 1) as Matches;
    return Array.from(r.keys, Number);
  }

  /** Exact distance between a query and an item (for tests and tools). */
  distanceTo(query: Float32Array, id: string): number {
    const key = this.keyById.get(id);
    if (key === undefined) throw new Error(`no item with id '${id}'`);
    return rowDistance(query, this.vectors, key, this.dim);
  }

  /** Whether there are changes save() has not written. */
  get dirty(): boolean {
    return this.pendingLog.length > 0 || this.rows > this.manifest.rows;
  }

  /**
   * Makes every change durable: appends the new vectors and log records, re-saves the graph when the log
   * part it does not cover has grown past max(10,000, 10% of the items) records (or `snapshot`), and commits
   * by replacing the manifest. A crash before the manifest rename leaves the previous state.
   */
  save(o: { snapshot?: boolean } = {}): void {
    this.checkOpen(true);
    const m = this.manifest;
    const snapshot = o.snapshot || (this.uncoveredRecords > 0 && (m.ann === null || this.uncoveredRecords > Math.max(10_000, 0.1 * this.size)));
    if (!this.dirty && !snapshot) return;
    const d = this.dim;
    appendAt(join(this.dir, this.vectorsFile), m.rows * d * 4, new Uint8Array(this.vectors.buffer, m.rows * d * 4, (this.rows - m.rows) * d * 4));
    const log = Buffer.from(this.pendingLog.map((l) => l + '\n').join(''), 'utf8');
    appendAt(join(this.dir, this.itemsFile), m.itemsBytes, log);
    const itemsBytes = m.itemsBytes + log.length;
    let ann = m.ann;
    if (snapshot) ann = this.saveGraph(this.ann, m.generation + 1, itemsBytes);
    const next: Manifest = { ...m, generation: m.generation + 1, rows: this.rows, itemsBytes, ann, updated: new Date().toISOString() };
    this.manifest = next;
    this.writeManifest();
    this.pendingLog = [];
    if (snapshot) {
      this.uncoveredRecords = 0;
      this.removeStaleSnapshots();
    }
  }

  private writeManifest(): void {
    writeFileAtomic(join(this.dir, MANIFEST), JSON.stringify(this.manifest, null, 2) + '\n');
  }

  /** Deletes graph snapshots, vectors and item logs the manifest no longer names. */
  private removeStaleSnapshots(): void {
    const keep = new Set([this.manifest.ann?.file, this.vectorsFile, this.itemsFile]);
    for (const f of readdirSync(this.dir)) {
      if (/^(ann-\d+\.usearch|vectors(-\d+)?\.f32|items(-\d+)?\.jsonl)$/.test(f) && !keep.has(f)) unlinkSync(join(this.dir, f));
    }
  }

  /**
   * Drops removed items for good: writes the live vectors and items (renumbered in key order) to new files,
   * rebuilds the graph from them, and commits with one manifest replace; the old files stay valid until then
   * and are deleted after. Unsaved changes are included. Returns the rows reclaimed.
   */
  compact(o: { threads?: number } = {}): { reclaimedRows: number; size: number } {
    this.checkOpen(true);
    const d = this.dim;
    const live = [...this.itemsByKey.keys()].sort((a, b) => a - b);
    const n = live.length;
    const vectors = new Float32Array(Math.max(n, 1024) * d);
    live.forEach((key, i) => vectors.set(this.row(key), i * d));
    const records: LogRecord[] = live.map((key, i) => {
      const it = this.itemsByKey.get(key)!;
      return { op: 'add', key: i, id: it.id, path: it.path, label: it.label, ...(it.digest ? { digest: it.digest } : {}) };
    });
    const gen = this.manifest.generation + 1;
    const files = { vectors: `vectors-${gen}.f32`, items: `items-${gen}.jsonl` };
    writeNewFile(join(this.dir, files.vectors), new Uint8Array(vectors.buffer, 0, n * d * 4));
    const log = Buffer.from(records.map((r) => JSON.stringify(r) + '\n').join(''), 'utf8');
    writeNewFile(join(this.dir, files.items), log);
    const graph = VectorIndex.newGraph(this.manifest);
    if (n)
      graph.add(
        BigUint64Array.from(live, (_, i) => BigInt(i)),
        vectors.subarray(0, n * d),
        o.threads ?? 0,
      );
    const ann = this.saveGraph(graph, gen, log.length);
    const reclaimedRows = this.rows - n;
    this.manifest = { ...this.manifest, generation: gen, files, rows: n, itemsBytes: log.length, ann, updated: new Date().toISOString() };
    this.writeManifest();
    // Committed: the in-memory state follows.
    this.ann = graph;
    this.vectors = vectors;
    this.rows = n;
    for (const m of [this.itemsByKey, this.keyById, this.keysByLabel, this.keyByDigest]) m.clear();
    for (const r of records) this.apply(r, false);
    this.pendingLog = [];
    this.uncoveredRecords = 0;
    this.removeStaleSnapshots();
    return { reclaimedRows, size: n };
  }

  /** Writes a graph snapshot for generation `gen` covering `itemsBytes` of the log (not yet committed). */
  private saveGraph(graph: HnswGraph, gen: number, itemsBytes: number): { file: string; itemsBytes: number } {
    const file = `ann-${gen}.usearch`;
    const tmp = join(this.dir, `.${file}.tmp`);
    graph.save(tmp);
    fsyncFile(tmp);
    renameSync(tmp, join(this.dir, file));
    return { file, itemsBytes };
  }

  info(): IndexInfo {
    const m = this.manifest;
    return {
      dir: this.dir,
      size: this.size,
      dim: m.dim,
      labels: this.labels.length,
      quantization: m.quantization,
      hnsw: m.hnsw,
      model: m.model,
      deletedRows: this.rows - this.size,
      generation: m.generation,
      created: m.created,
      updated: m.updated,
    };
  }

  private checkOpen(write: boolean): void {
    if (this.closed) throw new Error(`index ${this.dir} is closed`);
    if (write && !this.lock) throw new Error(`index ${this.dir} was opened read-only`);
  }

  /** Releases the writer lock (unsaved changes are dropped: call save() first). */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.lock?.release();
  }
}

export interface IndexInfo {
  dir: string;
  size: number;
  dim: number;
  labels: number;
  quantization: Quantization;
  hnsw: HnswSettings;
  model: ModelIdentity;
  /** Rows of removed items still stored (reclaimed by compact()). */
  deletedRows: number;
  generation: number;
  created: string;
  updated: string;
}

/** Writes `data` at byte `offset` (past the committed part), truncating nothing before it, and fsyncs. */
function appendAt(path: string, offset: number, data: Uint8Array): void {
  if (data.byteLength === 0 && existsSync(path)) return;
  const fd = openSync(path, existsSync(path) ? 'r+' : 'w');
  try {
    let off = 0;
    while (off < data.byteLength) off += writeSync(fd, data, off, data.byteLength - off, offset + off);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** Writes a whole file (replacing a stale uncommitted one of the same name) and fsyncs it. */
function writeNewFile(path: string, data: Uint8Array): void {
  const fd = openSync(path, 'w');
  try {
    let off = 0;
    while (off < data.byteLength) off += writeSync(fd, data, off, data.byteLength - off);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

function fsyncFile(path: string): void {
  const fd = openSync(path, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
