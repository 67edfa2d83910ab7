// Appends one JSON object per line to a run's metrics log (metrics.jsonl), so a run can be plotted or
// compared while it trains and after it is killed.
import { appendFileSync, existsSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { writeFileAtomic, readRegularFileSync } from '../engine/serialization/index.js';

export class MetricsLog {
  constructor(readonly path: string) {
    mkdirSync(dirname(path), { recursive: true });
  }

  write(record: Record<string, unknown>): void {
    try {
      appendFileSync(this.path, JSON.stringify({ time: new Date().toISOString(), ...record }) + '\n');
    } catch (e) {
      // A full disk lands here; a partial line it leaves is dropped by reconcile() on the next start.
      throw new Error(`cannot append to the metrics log ${this.path}: ${(e as Error).message}`, { cause: e });
    }
  }

  /**
   * Makes the log agree with a checkpoint about to be resumed (or with a fresh start: no epochs). A run
   * killed between writing an epoch's line and its checkpoint, or a write cut short by a full disk, leaves
   * lines of epochs the checkpoint does not hold or a partial last line; a resume would then log those epochs
   * again. Kept: parseable lines of epochs up to the checkpoint's, one per epoch and kind; an epoch the log
   * lost is restored from the checkpoint's history. Returns how many lines were dropped or restored.
   */
  reconcile(history: readonly { epoch: number }[]): { dropped: number; restored: number } {
    if (!existsSync(this.path) && history.length === 0) return { dropped: 0, restored: 0 };
    const lastEpoch = history.length ? history[history.length - 1]!.epoch : 0;
    const lines = existsSync(this.path)
      ? readRegularFileSync(this.path, 'metrics log')
          .toString('utf8')
          .split('\n')
          .filter((l) => l.trim() !== '')
      : [];
    const kept: Record<string, unknown>[] = [];
    const seen = new Set<string>();
    for (const line of lines) {
      let r: Record<string, unknown>;
      try {
        r = JSON.parse(line) as Record<string, unknown>;
      } catch {
        continue;
      }
      if (typeof r !== 'object' || r === null) continue;
      const epoch = typeof r.epoch === 'number' ? r.epoch : 0;
      if (epoch > lastEpoch) continue;
      // One line per epoch and kind for the per-epoch records; other kinds (warnings) may repeat.
      const key = r.kind === 'epoch' || r.kind === 'test' ? `${String(r.kind)}:${epoch}` : null;
      if (key !== null && seen.has(key)) continue;
      if (key !== null) seen.add(key);
      kept.push(r);
    }
    let restored = 0;
    for (const h of history) {
      if (seen.has(`epoch:${h.epoch}`)) continue;
      kept.push({ time: null, kind: 'epoch', ...h });
      restored++;
    }
    kept.sort((a, b) => ((a.epoch as number) ?? 0) - ((b.epoch as number) ?? 0) || (a.kind === 'epoch' ? -1 : 0) - (b.kind === 'epoch' ? -1 : 0));
    const dropped = lines.length - (kept.length - restored);
    if (dropped || restored) writeFileAtomic(this.path, kept.map((r) => JSON.stringify(r) + '\n').join(''));
    return { dropped, restored };
  }
}
