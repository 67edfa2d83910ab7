// Progress display for long work: a bar with step, epoch, loss, last validation metric and ETA on a TTY
// (cli-progress), and one plain line per epoch otherwise (CI logs, pipes).
import cliProgress from 'cli-progress';

export interface ProgressState {
  epoch: number;
  step: number;
  loss: number;
  metric: number | null;
}

export class TrainingProgress {
  private bar: cliProgress.SingleBar | null = null;
  private readonly started = Date.now();

  constructor(
    private readonly stepsPerEpoch: number,
    private readonly maxEpochs: number,
    private readonly enabled = true,
    private readonly stream: NodeJS.WriteStream = process.stderr,
  ) {}

  startEpoch(epoch: number, metric: number | null): void {
    if (!this.enabled || !this.stream.isTTY) return;
    this.bar?.stop();
    this.bar = new cliProgress.SingleBar(
      {
        format: `epoch ${epoch}/${this.maxEpochs} [{bar}] {value}/{total} steps | loss {loss} | val MAP@R {metric} | ETA {eta_formatted}`,
        stream: this.stream,
        hideCursor: true,
        clearOnComplete: true,
      },
      cliProgress.Presets.shades_classic,
    );
    this.bar.start(this.stepsPerEpoch, 0, { loss: '-', metric: metric === null ? '-' : metric.toFixed(4) });
  }

  update(s: ProgressState): void {
    this.bar?.update(s.step, { loss: s.loss.toFixed(4), metric: s.metric === null ? '-' : s.metric.toFixed(4) });
  }

  /** One summary line per epoch (always printed). */
  endEpoch(epoch: number, loss: number, metrics: Record<string, number>, note = ''): void {
    this.bar?.stop();
    this.bar = null;
    if (!this.enabled) return;
    const secs = (Date.now() - this.started) / 1000;
    const shown = Object.entries(metrics)
      .map(([k, v]) => `${k} ${v.toFixed(4)}`)
      .join(' | ');
    this.stream.write(`epoch ${epoch} | loss ${loss.toFixed(4)} | ${shown} | ${secs.toFixed(0)}s${note ? ' | ' + note : ''}\n`);
  }

  stop(): void {
    this.bar?.stop();
    this.bar = null;
  }
}
