// What a run is about to do, printed before its first step: data sizes and classes per split, where validation
// came from, the model and its pretrained weights, image size and channels, precision, threads; and warnings
// when the data cannot fill what the config asks for (batches, CCP pools) or colour images will be read as grey.
import sharp from 'sharp';
import { resolveNormalization, type ImageDataset } from '../data/index.js';
import { modelInfo, type ModelInfo } from '../models/index.js';
import type { RunConfig } from './config.js';
import type { RunData } from './data-setup.js';

export interface SetupSummary {
  lines: string[];
  warnings: string[];
}

const count = (n: number) => n.toLocaleString('en-US');
const sized = (ds: ImageDataset) => `${count(ds.size)} images / ${count(ds.numClasses)} classes`;

/** Warnings about data that cannot fill a batch or a CCP pool (pure: sizes only). */
export function batchWarnings(cfg: RunConfig, train: ImageDataset, ccpPools: boolean): string[] {
  const out: string[] = [];
  const t = cfg.training;
  const counts = [...train.classCounts()];
  const short = counts.filter((n) => n < t.samplesPerClass).length;
  if (short > 0) {
    out.push(
      `${short} of ${train.numClasses} training classes have fewer images than training.samplesPerClass (${t.samplesPerClass}; smallest has ${Math.min(...counts)}): ` +
        `their batches repeat images`,
    );
  }
  if (ccpPools) {
    const b = cfg.ccp.poolSize;
    const fewer = counts.filter((n) => n < b).length;
    if (fewer > 0) {
      out.push(
        `${fewer} of ${train.numClasses} training classes have fewer images than CCP's pool size ccp.poolSize (b = ${b}): their candidate pools repeat images`,
      );
    }
  }
  return out;
}

/**
 * Warnings when pretrained weights are fed other images than they were trained on: another input size or
 * preprocessing than the model's metadata (models/registry.ts) states. Pure: the config alone.
 */
export function pretrainedWarnings(cfg: RunConfig): string[] {
  const m = cfg.model;
  const info = modelInfo(m.name);
  if (!m.pretrained) return [];
  const out: string[] = [];
  const d = cfg.dataset;
  if (info.inputSize && (info.inputSize[1] !== d.imageSize || info.inputSize[0] !== d.channels)) {
    const [c, h] = info.inputSize;
    out.push(`${m.name}'s pretrained weights expect ${h}x${h} images with ${c} channels; dataset.imageSize is ${d.imageSize}, dataset.channels ${d.channels}`);
  }
  if (info.normalization && d.channels === 3) {
    const expected = resolveNormalization(
      { ...info.normalization, mean: [...info.normalization.mean], std: info.normalization.std && [...info.normalization.std] },
      3,
    );
    const actual = resolveNormalization(d.normalization, 3);
    const close = (a: number[], b: number[]) => a.every((v, i) => Math.abs(v - b[i]!) <= 1e-6 * Math.max(1, Math.abs(v)));
    if (expected.bgr !== actual.bgr || !close(expected.mul, actual.mul) || !close(expected.sub, actual.sub)) {
      out.push(
        `${m.name}'s pretrained weights expect other preprocessing than dataset.normalization '${d.normalization}' (${describeNormalization(info.normalization)})`,
      );
    }
  }
  return out;
}

function describeNormalization(n: NonNullable<ModelInfo['normalization']>): string {
  return `mean [${n.mean.join(', ')}]${n.std ? `, std [${n.std.join(', ')}]` : ''}${n.scale ? `, scale ${n.scale}` : ''}${n.bgr ? ', BGR' : ', RGB'}`;
}

/** Channels of the first few images, when they are files or zip entries (null when none could be read). */
async function storedChannels(ds: ImageDataset, probe = 4): Promise<number | null> {
  let most: number | null = null;
  for (let i = 0; i < Math.min(probe, ds.size); i++) {
    try {
      const img = await ds.load(i);
      const ch = img.kind === 'raw' ? img.channels : ((await sharp(img.bytes).metadata()).channels ?? null);
      if (ch !== null) most = Math.max(most ?? 0, ch);
    } catch {
      // unreadable images are reported by the loader with their path
    }
  }
  return most;
}

export async function setupSummary(
  cfg: RunConfig,
  data: RunData,
  o: { threads: number; ccpPools: boolean; inputShape: readonly number[]; precision?: string; memoryFormat?: string; frozenBatchNormFolded?: boolean },
): Promise<SetupSummary> {
  const lines: string[] = [];
  const test = data.test.gallery
    ? `test ${sized(data.test.query)} queries, gallery ${sized(data.test.gallery)}`
    : `test ${sized(data.test.query)} (self-retrieval)`;
  const capped = cfg.training.maxValidationSamples;
  const valUse = capped !== null && capped < data.validation.size ? ` (${count(capped)} used per epoch)` : '';
  lines.push(`data '${cfg.dataset.name}': train ${sized(data.train)} | validation ${sized(data.validation)}${valUse} | ${test}`);
  lines.push(`validation: ${data.validationSource ?? 'held out from the training split'}`);
  const [c, h, w] = o.inputShape;
  lines.push(
    `model ${cfg.model.name} (D = ${cfg.model.embeddingDim}), pretrained: ${cfg.model.pretrained ?? 'none (random init)'} | input ${w}x${h}, ${c} channel${c === 1 ? '' : 's'}, ` +
      `normalization ${cfg.dataset.normalization}, augment ${cfg.dataset.augment ? 'on' : 'off'}`,
  );
  const t = cfg.training;
  lines.push(
    `loss ${cfg.loss.name}${cfg.loss.preset ? ` (preset ${cfg.loss.preset})` : ''} | ${cfg.optimizer.name} lr ${cfg.optimizer.lr} | batches of ${t.classesPerBatch} classes x ${t.samplesPerClass} images, ` +
      `${t.stepsPerEpoch} steps per epoch, at most ${t.maxEpochs} epochs${t.timeBudgetSeconds !== undefined ? ` or ${t.timeBudgetSeconds} s` : ''} | precision ${o.precision ?? 'fp32'}${o.memoryFormat === 'channels_last' ? ', channels_last' : ''}${o.frozenBatchNormFolded ? ', frozen BN folded into convs' : ''} | threads ${o.threads}`,
  );
  const warnings = [...batchWarnings(cfg, data.train, o.ccpPools), ...pretrainedWarnings(cfg)];
  if (cfg.dataset.channels === 1) {
    const stored = await storedChannels(data.train);
    if (stored !== null && stored >= 3)
      warnings.push(`the training images have ${stored} channels but dataset.channels is 1: colour is read as grey (set dataset.channels: 3 to keep it)`);
  }
  return { lines, warnings };
}
