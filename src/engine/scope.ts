// Scoped disposal of native tensors, like tf.tidy: every tensor created inside `tidy(fn)` is freed when fn
// returns, except the tensors it returns (which move to the enclosing scope) and those passed to `keep`.
// Finalizers in the addon free anything that escapes; this makes freeing prompt and deterministic.
import v8 from 'node:v8';
import vm from 'node:vm';

export interface Disposable {
  /** Frees the object; a no-op when it was freed already. */
  dispose(): void;
  readonly isDisposed: boolean;
  /** Called when the object leaves scoped disposal (created outside any scope, kept, or returned by the outermost tidy). */
  escapeScope?(): void;
}

type Scope = Set<Disposable>;

const scopes: Scope[] = [];
const kept = new WeakSet<Disposable>();
let liveCount = 0;
/** Tensors created since releaseFinalizedWrappers last ran a young-generation GC. */
let createdSinceGc = 0;

/** Called by every new tensor; false when no tidy scope will dispose it. */
export function track(t: Disposable): boolean {
  liveCount++;
  createdSinceGc++;
  const top = scopes[scopes.length - 1];
  if (top) {
    top.add(t);
    return true;
  }
  return false;
}

/** Called when a tensor is disposed explicitly. */
export function untrack(t: Disposable): void {
  liveCount--;
  const top = scopes[scopes.length - 1];
  top?.delete(t);
}

/** Number of tensors created and not yet disposed explicitly (finalized ones still count). */
export function liveTensors(): number {
  return liveCount;
}

/** Excludes a tensor from disposal by any enclosing tidy scope. */
export function keep<T extends Disposable>(t: T): T {
  kept.add(t);
  for (const s of scopes) s.delete(t);
  t.escapeScope?.();
  return t;
}

function collect(value: unknown, out: Set<Disposable>, depth = 0): void {
  if (value === null || value === undefined || depth > 4) return;
  if (typeof value !== 'object') return;
  if (typeof (value as Disposable).dispose === 'function' && 'isDisposed' in (value as object)) {
    out.add(value as Disposable);
    return;
  }
  if (Array.isArray(value)) {
    for (const v of value) collect(v, out, depth + 1);
    return;
  }
  if (Object.getPrototypeOf(value) === Object.prototype || value instanceof Map) {
    const values = value instanceof Map ? value.values() : Object.values(value);
    for (const v of values) collect(v, out, depth + 1);
  }
}

/**
 * Runs fn and disposes every tensor it created except those in its result (a tensor, or arrays / plain
 * objects / Maps of tensors), which are handed to the enclosing scope. fn must be synchronous.
 */
export function tidy<T>(fn: () => T): T {
  const scope: Scope = new Set();
  scopes.push(scope);
  let result: T;
  try {
    result = fn();
  } catch (err) {
    scopes.pop();
    for (const t of scope) t.dispose();
    throw err;
  }
  scopes.pop();
  if (result instanceof Promise) {
    for (const t of scope) t.dispose();
    throw new Error('tidy() received an async function; tensors cannot be tracked across await. Use tidy inside the async code.');
  }
  const survivors = new Set<Disposable>();
  collect(result, survivors);
  const parent = scopes[scopes.length - 1];
  for (const t of scope) {
    if (survivors.has(t)) {
      if (parent) parent.add(t);
      else t.escapeScope?.();
    } else t.dispose();
  }
  return result;
}

/**
 * Applies `steps` in order and frees each intermediate result as soon as the next step has consumed it (never `x`
 * itself): the lifetime Python's reference counting gives a chain like relu(bn(conv(x))). Autograd keeps its own
 * reference to whatever backward needs, so only memory nobody uses any more is released, inside a step instead of
 * at the end of the enclosing tidy (a lower peak, and heap memory reused while it is still warm).
 */
export function pipe<T extends Disposable>(x: T, ...steps: ((v: T) => T)[]): T {
  let cur = x;
  for (const step of steps) {
    const next = step(cur);
    if (cur !== x && next !== cur && !cur.isDisposed) cur.dispose();
    cur = next;
  }
  return cur;
}

/** Disposes tensors (or nested arrays / objects of them). */
export function dispose(value: unknown): void {
  const all = new Set<Disposable>();
  collect(value, all);
  for (const t of all) t.dispose();
}

/** Tensors between two young-generation GCs in releaseFinalizedWrappers ($CCP_DML_GC_EVERY, default 500, 0 = never). */
const GC_EVERY = (() => {
  const v = Number(process.env.CCP_DML_GC_EVERY ?? 500);
  return Number.isFinite(v) && v >= 0 ? v : 500;
})();

let minorGc: (() => void) | null | undefined;
function youngGenerationGc(): (() => void) | null {
  if (minorGc === undefined) {
    try {
      v8.setFlagsFromString('--expose-gc');
      const gc = vm.runInNewContext('gc') as (o: { type: 'minor' }) => void;
      minorGc = () => gc({ type: 'minor' });
    } catch {
      minorGc = null;
    }
  }
  return minorGc;
}

/**
 * Lets Node run pending Node-API finalizers (they are deferred to the event loop's check phase). A loop that
 * creates tensors and never returns to the event loop keeps the finalizer queue growing, and with it the
 * process's memory, even when every tensor is disposed. Long training or evaluation loops await this once per
 * step.
 *
 * Every CCP_DML_GC_EVERY (500) tensors it also runs a young-generation GC (0.2-1 ms): each disposed tensor leaves
 * a small native wrapper object that lives until V8 collects its JS handle, and those objects, scattered between
 * the freed tensor blocks, kept glibc from reusing them: a small-CNN training loop held 680 MB-1.1 GB of RSS,
 * 330 MB with this GC (PyTorch: 300 MB).
 */
export function releaseFinalizedWrappers(): Promise<void> {
  if (GC_EVERY > 0 && createdSinceGc >= GC_EVERY) {
    createdSinceGc = 0;
    youngGenerationGc()?.();
  }
  return new Promise((resolve) => setImmediate(resolve));
}
