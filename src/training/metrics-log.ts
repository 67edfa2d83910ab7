// Appends one JSON object per line to a run's metrics log (metrics.jsonl), so a run can be plotted or
// compared while it trains and after it is killed.
import { appendFileSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';

export class MetricsLog {
  constructor(readonly path: string) {
    mkdirSync(dirname(path), { recursive: true });
  }

  write(record: Record<string, unknown>): void {
    appendFileSync(this.path, JSON.stringify({ time: new Date().toISOString(), ...record }) + '\n');
  }
}
