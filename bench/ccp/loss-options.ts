// `--loss-option <base loss>.<key>=<value>[,...]`: overrides of a base loss's own options (the run config's
// `loss.options`) for every study method built on that base loss, with and without CCP. Scoped by the base loss
// because a key means different things to different losses (C1's `reduction` is 'anchors' | 'active', C2's
// 'active' | 'mean' | 'sum'). Checked at once by constructing the loss, so a typo fails before any run.
import { constructLoss, isLossName, LOSS_NAMES, PAIR_LOSS_NAMES } from '../../src/losses/registry.js';
import { checkLossOptions } from '../../src/training/option-keys.js';

/** Base loss name -> its loss.options overrides. */
export type StudyLossOptions = Record<string, Record<string, unknown>>;

/** 'ccp/original_contrastive' -> 'original_contrastive'. */
export function baseLossName(loss: string): string {
  return loss.slice(loss.lastIndexOf('/') + 1);
}

function parseValue(raw: string): unknown {
  if (raw === 'true' || raw === 'false') return raw === 'true';
  const n = Number(raw);
  return raw.trim() !== '' && Number.isFinite(n) ? n : raw;
}

/** Parses `original_contrastive.reduction=active,contrastive.posMargin=0.1` into `into` (later keys win). */
export function parseLossOptions(v: string, into: StudyLossOptions = {}): StudyLossOptions {
  const out: StudyLossOptions = { ...into };
  for (const part of v.split(',')) {
    const m = /^\s*([a-z0-9_]+)\.([A-Za-z]+)\s*=\s*(\S+)\s*$/.exec(part);
    if (!m) throw new Error(`--loss-option: expected <loss>.<key>=<value> such as original_contrastive.reduction=active, got '${part}'`);
    const [, loss, key, raw] = m as unknown as [string, string, string, string];
    if (!isLossName(loss)) throw new Error(`--loss-option: unknown loss '${loss}' (expected one of ${LOSS_NAMES.join(', ')})`);
    const options = { ...out[loss], [key]: parseValue(raw) };
    try {
      checkLossOptions(loss, options);
      if (PAIR_LOSS_NAMES.includes(loss)) constructLoss(loss, options); // proxy losses need the class count
    } catch (e) {
      throw new Error(`--loss-option ${loss}.${key}: ${(e as Error).message}`);
    }
    out[loss] = options;
  }
  return out;
}
