// Progress of one long task that is not a training epoch (loading a dataset, embedding a split for evaluation):
// a bar with count and ETA on a TTY, a start line and an end line with the time taken otherwise (logs, pipes).
import cliProgress from 'cli-progress';

export class TaskProgress {
  private bar: cliProgress.SingleBar | null = null;
  private readonly started = Date.now();

  constructor(
    private readonly label: string,
    private readonly total: number,
    private readonly unit: string,
    private readonly enabled = true,
    private readonly stream: NodeJS.WriteStream = process.stderr,
  ) {
    if (!enabled) return;
    if (stream.isTTY) {
      this.bar = new cliProgress.SingleBar(
        { format: `${label} [{bar}] {value}/{total} ${unit} | ETA {eta_formatted}`, stream, hideCursor: true, clearOnComplete: true },
        cliProgress.Presets.shades_classic,
      );
      this.bar.start(total, 0);
    } else stream.write(`${label}: ${total} ${unit} ...\n`);
  }

  update(done: number): void {
    this.bar?.update(done);
  }

  done(note = ''): void {
    if (!this.enabled) return;
    this.bar?.stop();
    this.bar = null;
    const secs = ((Date.now() - this.started) / 1000).toFixed(1);
    this.stream.write(`${this.label}: ${this.total} ${this.unit} in ${secs} s${note ? ` (${note})` : ''}\n`);
  }
}

/** Runs `work` with a progress display; `work` reports how many units are done. */
export async function withProgress<T>(
  label: string,
  total: number,
  unit: string,
  enabled: boolean,
  work: (update: (done: number) => void) => Promise<T>,
): Promise<T> {
  const p = new TaskProgress(label, total, unit, enabled);
  const r = await work((d) => p.update(d));
  p.done();
  return r;
}
