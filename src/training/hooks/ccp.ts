// CCP's projection controller as a callback (spec 2.3-2.5): the initial K-center of the proxies at the start
// of a fresh run, the per-problem patience and projections on each epoch's validation MAP@R (adding `ccp` to the
// epoch record and a 'projection' line to the metrics log), and at the end the best weights' proxies for the
// report's embedding map. Candidate pools are one-per-class spans of the training split, embedded in inference
// mode with the training preprocessing (the reference code's behaviour, spec 2.4) or, with the option
// `poolPreprocessing: 'test'`, the evaluation one. The proximal term on the
// gradients is a stage of the gradient pipeline (gradient-pipeline.ts), not an event here.
// Its checkpoint part: 'ccp' (controller scalars), 'pool' (pool sampler and batches), the controller's tensors.
import { join } from 'node:path';
import { tensor, tidy, type Tensor } from '../../engine/index.js';
import { saveSafetensors } from '../../engine/serialization/index.js';
import { OnePerClassSampler, deriveSeed, type ImageLoader, type SamplerState } from '../../data/index.js';
import type { CcpContext, CcpController, CcpStateScalars } from '../../ccp/index.js';
import type { EmbeddingNet } from '../../models/index.js';
import type { RunData } from '../data-setup.js';
import { embedItems } from '../embed.js';
import type { EmbedFn } from '../sharded-embed.js';
import { section } from '../checkpoint.js';
import { PROXIES_FILE } from '../run-files.js';
import type { CheckpointPart, EpochEndContext, RestoredPart, TrainCallback, TrainContext, TrainEndContext, ValidationContext } from './callback.js';
import type { EpochRecord } from '../run-types.js';

export interface CcpHookParts {
  controller: CcpController;
  model: EmbeddingNet;
  data: RunData;
  /** Network weights θ with names (the controller's domain). */
  parameters: [string, Tensor][];
  /** The training split with the preprocessing `poolPreprocessing` names (training by default), for the candidate pools. */
  poolImages: ImageLoader;
  seed: number;
  evalBatchSize: number;
  /** How pools are embedded (default embedItems; sharded over the ranks of a distributed run). */
  embed?: EmbedFn;
}

export class CcpHook implements TrainCallback {
  readonly name = 'ccp';
  private readonly sampler: OnePerClassSampler;
  private poolBatches = 0;
  private readonly ccpContext: CcpContext;

  constructor(private readonly parts: CcpHookParts) {
    this.sampler = new OnePerClassSampler(parts.data.train, { seed: deriveSeed(parts.seed, 2) });
    this.ccpContext = { parameters: parts.parameters, samplePool: (bPrime) => this.samplePool(bPrime) };
  }

  get controller(): CcpController {
    return this.parts.controller;
  }

  async onTrainBegin(ctx: TrainContext): Promise<void> {
    if (!ctx.resumed) await this.controller.onTrainBegin({ ...this.ccpContext, epoch: 0 });
  }

  async onValidation(ctx: ValidationContext): Promise<Partial<EpochRecord>> {
    const r = await this.controller.onEpochEnd(ctx.validation.mapAtR, { ...this.ccpContext, epoch: ctx.epoch });
    return { ccp: { t: r.t, lambda: r.lambda, projected: r.projected } };
  }

  onEpochEnd(ctx: EpochEndContext): void {
    const events = this.controller.history;
    if (ctx.record.ccp?.projected) ctx.log({ kind: 'projection', ...events[events.length - 1]! });
  }

  onTrainEnd(ctx: TrainEndContext): void {
    if (!ctx.test || !ctx.writesFiles) return;
    // The proxies of the best weights (restored before the test), for the report's embedding map.
    const proxies = this.controller.proxies;
    tidy(() => saveSafetensors(join(ctx.runDir, PROXIES_FILE), { proxies: proxies.proxies.detach(), labels: proxies.labels }));
  }

  checkpointState(): CheckpointPart {
    const s = this.controller.stateDict();
    return { state: { pool: { sampler: this.sampler.getState(), batches: this.poolBatches }, ccp: s.scalars }, tensors: s.tensors };
  }

  restoreState(saved: RestoredPart): void {
    const state = saved.state as { ccp: CcpStateScalars | null; pool: { sampler: SamplerState; batches: number } | null };
    if (state.ccp) this.controller.loadStateDict({ tensors: section(saved.tensors, ''), scalars: state.ccp }, this.parts.parameters);
    if (state.pool) {
      this.sampler.setState(state.pool.sampler);
      this.poolBatches = state.pool.batches;
    }
  }

  /** b′ one-per-class spans embedded: [C, b′, D]. */
  private async samplePool(bPrime: number): Promise<Tensor> {
    const { data, model, poolImages, evalBatchSize } = this.parts;
    const C = data.train.numClasses;
    const spans = Array.from({ length: bPrime }, () => this.sampler.span());
    const emb = await (this.parts.embed ?? embedItems)(model, poolImages, {
      indices: spans.flat(),
      batchSize: evalBatchSize,
      batchIndexOffset: this.poolBatches,
    });
    this.poolBatches += Math.ceil((C * bPrime) / evalBatchSize);
    if (emb.skipped)
      throw new Error(
        `CCP candidate pool: ${emb.skipped.length} training image(s) could not be decoded (${emb.skipped.map((i) => data.train.where(i)).join(', ')}); fix or remove them`,
      );
    // spans.flat() is span-major [b', C, D]; the controller wants [C, b', D], where the proxies are.
    return tidy(() => tensor(emb.data, [bPrime, C, emb.dim], { device: this.controller.proxies.proxies.device }).transpose(0, 1).contiguous());
  }
}
