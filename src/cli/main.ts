#!/usr/bin/env node
// ccp-dml command line: train, eval, embed, search (and index, calibrate, serve, export).
// Only commander and the command definitions load at start; a command's implementation (and with it libtorch,
// sharp and the rest) is imported when the command runs, so --help and --version are instant and work even
// where the native addon is not built.
import { Command, Option } from 'commander';
import { readFileSync, writeFileSync } from 'node:fs';
import { presets } from '../training/presets.js';
// The names lists below are native-free modules of their layers (registries and name lists, not implementations).
import { DATASET_NAMES } from '../data/registry.js';
import { MODEL_NAMES } from '../models/model-names.js';
import { PRESET_NAMES } from '../losses/presets.js';
import { formatMetrics } from './format.js';
import { exitWhenFlushed, endsWithAction } from './exit.js';
import { registerIndexCommands } from './index-program.js';
import { registerServeCommand } from './serve-program.js';
import { registerExportCommand } from './export-program.js';
import { addRunOptions, deviceOption, precisionOption } from './run-options.js';
import { addCommonOptions, applyCommonOptions } from './common-options.js';

type Obj = Record<string, unknown>;

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

function num(name: string) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isFinite(n)) throw new Error(`${name} must be a number, got '${v}'`);
    return n;
  };
}

/** CLI flags as config overrides (flags win over the config file and the preset). */
function flagOverrides(o: Obj, parseOverride: (spec: string) => Obj): Obj[] {
  const out: Obj[] = [];
  const put = (path: string, v: unknown) => {
    if (v === undefined) return;
    const keys = path.split('.');
    let value: unknown = v;
    for (let i = keys.length - 1; i >= 0; i--) value = { [keys[i]!]: value };
    out.push(value as Obj);
  };
  put('dataset.name', o.dataset);
  put('dataset.root', o.dataRoot);
  put('dataset.csv', o.csv);
  put('model.name', o.model);
  put('model.embeddingDim', o.embeddingDim);
  put('model.pretrained', o.pretrained);
  put('loss.name', o.loss);
  put('loss.preset', o.lossPreset);
  put('optimizer.lr', o.lr);
  put('training.maxEpochs', o.epochs);
  put('training.stepsPerEpoch', o.stepsPerEpoch);
  put('training.earlyStopPatience', o.patience);
  put('ccp.patience', o.ccpPatience);
  put('model.freezeBatchNorm', o.freezeBn);
  put('training.timeBudgetSeconds', o.timeBudget);
  put('seed', o.seed);
  put('threads', o.threads);
  put('model.precision', o.precision);
  put('device', o.device);
  put('outputDir', o.out);
  put('name', o.name);
  for (const s of (o.set as string[] | undefined) ?? []) out.push(parseOverride(s));
  return out;
}

const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string };

const program = new Command();
program
  .name('ccp-dml')
  .description('Deep metric learning with chance constraints (CCP) on libtorch')
  .version(pkg.version, '-V, --version')
  .showHelpAfterError()
  .configureOutput({ outputError: (s, write) => write(s) });

program
  .command('train')
  .description('train an embedding model, validate every epoch, evaluate the best weights on the test split')
  .option('-c, --config <file>', 'YAML or JSON config file')
  .addOption(new Option('-p, --preset <name>', 'starting configuration').choices(Object.keys(presets)))
  .option('--dataset <name>', DATASET_NAMES.join(' | '))
  .option('--data-root <dir>', 'dataset folder')
  .option('--csv <file>', 'CSV manifest (path,label,split) for --dataset csv')
  .option('--model <name>', MODEL_NAMES.join(' | '))
  .option('--embedding-dim <n>', 'embedding size D', num('--embedding-dim'))
  .option('--pretrained <file>', 'backbone weights (safetensors)')
  .option('--loss <name>', "loss, optionally wrapped: 'ccp/contrastive', 'xbm/triplet', 'proxy_anchor', ...")
  .option('--loss-preset <name>', `loss hyperparameters: a dataset's from the paper, the reference code's or PML's (${PRESET_NAMES.join(' | ')})`)
  .option('--lr <x>', 'learning rate', num('--lr'))
  .option('--epochs <n>', 'maximum epochs', num('--epochs'))
  .option('--steps-per-epoch <n>', 'steps between validations', num('--steps-per-epoch'))
  .option('--patience <n>', 'global early-stopping patience (epochs)', num('--patience'))
  .option('--ccp-patience <n>', 'CCP: epochs without a validation gain that end one projection problem', num('--ccp-patience'))
  .option('--freeze-bn', "freeze the backbone's BatchNorm (statistics and affine), as the paper's pretrained BN-Inception")
  .option('--time-budget <s>', 'stop at the first epoch end after this many seconds', num('--time-budget'))
  .option('--seed <n>', 'random seed', num('--seed'))
  .addOption(precisionOption())
  .addOption(deviceOption('where to train: cpu, cuda (GPU 0; under --nproc or torchrun the GPU of LOCAL_RANK), cuda:N, auto (config key device)'))
  .option('--out <dir>', 'runs folder (default runs)')
  .option('--name <name>', 'run name (folder under --out)')
  .option('--set <key=value>', 'override any config key, e.g. --set ccp.proxiesPerClass=4 (repeatable)', collect, [])
  .option('--resume', 'continue the run folder from its last checkpoint')
  .addOption(new Option('--protocol <name>', 'single run, or the MLRC protocol (4 fold models, 128D and 512D)').choices(['single', 'mlrc']).default('single'))
  .option('--repeats <n>', 'MLRC repeats', num('--repeats'), 1)
  .option('--print-config', 'print the resolved config (checked, registry names included) and exit')
  .option('--no-report', 'do not write the HTML run report (report.html) at the end')
  .option(
    '--nproc <n>',
    'data-parallel: start N local processes (threads split between them); multi-machine: set MASTER_ADDR, MASTER_PORT, WORLD_SIZE, RANK instead',
    num('--nproc'),
  )
  .option('--dist-timeout <s>', 'data-parallel: seconds a collective may wait for the other ranks (default 1800)', num('--dist-timeout'))
  .action(async (o: Obj) => {
    const { resolveConfig, parseOverride } = await import('./config-loader.js');
    const config = resolveConfig({ preset: o.preset as string | undefined, file: o.config as string | undefined, overrides: flagOverrides(o, parseOverride) });
    if (o.printConfig) {
      process.stdout.write(JSON.stringify(config, null, 2) + '\n');
      return;
    }
    if (o.protocol === 'mlrc') {
      const { trainMlrc } = await import('../training/mlrc.js');
      const { runReportCallback, mlrcReportCallback } = await import('../report/index.js');
      const reports = o.report ? { callbacks: [runReportCallback()], protocolCallbacks: [mlrcReportCallback()] } : {};
      const r = await trainMlrc(config, { repeats: o.repeats as number, resume: Boolean(o.resume), quiet: Boolean(o.quiet), ...reports });
      process.stdout.write(r.report + '\n');
      if (r.reportPath) process.stdout.write(`report: ${r.reportPath}\n`);
      return;
    }
    const { launchTrainRanks, joinGroupIfLaunched } = await import('./distributed-train.js');
    if (o.nproc !== undefined && o.nproc !== 1 && !process.env.WORLD_SIZE) {
      if (!Number.isInteger(o.nproc) || (o.nproc as number) < 1) throw new Error(`--nproc must be an integer >= 1, got ${o.nproc}`);
      return launchTrainRanks(o.nproc as number, config.threads ?? undefined);
    }
    const group = joinGroupIfLaunched(o.distTimeout as number | undefined, config.device);
    if (group && process.env.CCP_DML_THREADS) config.threads = Number(process.env.CCP_DML_THREADS);
    const { train } = await import('../training/trainer.js');
    const { runReportCallback } = await import('../report/index.js');
    const main = (group?.rank ?? 0) === 0;
    const r = await train(config, {
      resume: Boolean(o.resume),
      quiet: Boolean(o.quiet),
      // Every rank gets the report callback; it writes only where the run's files are written (rank 0).
      callbacks: o.report ? [runReportCallback()] : [],
      ...(group ? { distributed: { group } } : {}),
    }).then((res) => {
      group?.destroy();
      return res;
    });
    if (!main) return;
    process.stdout.write(`\nrun folder: ${r.runDir}  (${r.epochs} epochs, ${r.steps} steps, ${r.wallSeconds.toFixed(0)} s, stopped by ${r.stopReason})\n`);
    process.stdout.write(`best validation MAP@R ${r.bestValidationMapAtR.toFixed(4)} at epoch ${r.bestEpoch}; CCP projections: ${r.ccpProjections.length}\n`);
    if (r.test) process.stdout.write(`test retrieval (${r.test.numEvaluated} queries):\n${formatMetrics(r.test)}\n`);
    for (const w of r.warnings) process.stdout.write(`warning: ${w}\n`);
    if (r.reportPath) process.stdout.write(`report: ${r.reportPath}\n`);
  });

program
  .command('report')
  .description("write a run's HTML report (curves, CCP projections, test metrics, retrieval examples, embedding map); an MLRC folder gets its summary")
  .requiredOption('-r, --run <dir>', 'run folder, or the MLRC protocol folder (holds mlrc-results.json)')
  .option('--map-points <n>', 'test items on the UMAP map (a stratified sample beyond this)', num('--map-points'), 2000)
  .action(async (o: Obj) => {
    const { reportCommand } = await import('./commands.js');
    const path = await reportCommand({ run: o.run as string, maxMapPoints: o.mapPoints as number });
    process.stdout.write(`report: ${path}\n`);
  });

program
  .command('pretrain')
  .description("classification pretraining of a model's backbone on a labelled set (softmax over the training classes); writes the backbone for --pretrained")
  .requiredOption('-o, --output <file>', 'backbone weights to write (.safetensors)')
  .option('-c, --config <file>', 'YAML or JSON config file (its dataset and model sections are used)')
  .addOption(new Option('-p, --preset <name>', 'starting configuration').choices(Object.keys(presets)))
  .option('--dataset <name>', DATASET_NAMES.join(' | '))
  .option('--data-root <dir>', 'dataset folder')
  .option('--csv <file>', 'CSV manifest (path,label,split) for --dataset csv')
  .option('--model <name>', MODEL_NAMES.join(' | '))
  .option('--epochs <x>', 'passes over the training images (fractions allowed)', num('--epochs'), 2)
  .option('--batch-size <n>', 'images per step', num('--batch-size'), 128)
  .option('--lr <x>', 'Adam learning rate', num('--lr'), 1e-3)
  .option('--invert', "pixels v -> 1 - v (dark strokes on white, e.g. MNIST digits for Omniglot); needs 'unit' normalization")
  .option('--seed <n>', 'random seed', num('--seed'))
  .option('--set <key=value>', 'override any config key (repeatable)', collect, [])
  .action(async (o: Obj) => {
    const { resolveConfig, parseOverride } = await import('./config-loader.js');
    const { pretrainCommand } = await import('../training/pretrain.js');
    const config = resolveConfig({
      preset: o.preset as string | undefined,
      file: o.config as string | undefined,
      overrides: flagOverrides({ ...o, epochs: undefined, lr: undefined }, parseOverride),
    });
    const r = await pretrainCommand(config, {
      out: o.output as string,
      epochs: o.epochs as number,
      batchSize: o.batchSize as number,
      lr: o.lr as number,
      invert: Boolean(o.invert),
      quiet: Boolean(o.quiet),
    });
    const acc = Number.isNaN(r.testAccuracy)
      ? 'no held-out images of the training classes to measure accuracy on'
      : `held-out accuracy ${(100 * r.testAccuracy).toFixed(2)}%`;
    process.stdout.write(
      `pretrained ${config.model.name} on ${r.images} images of ${r.classes} classes (${r.steps} steps, ${r.seconds.toFixed(0)} s), ${acc}\nwrote ${r.file} (use it with --pretrained ${r.file})\n`,
    );
  });

program
  .command('eval')
  .description("evaluate a trained run's model on a split of its dataset")
  .requiredOption('-r, --run <dir>', 'run folder (holds config.json and model.safetensors)')
  .option('--weights <file>', 'weights file instead of <run>/model.safetensors')
  .addOption(new Option('--split <name>', 'which split').choices(['test', 'validation']).default('test'))
  .option('--nmi', 'also compute NMI (k-means)')
  .option('--json <file>', 'also write the metrics as JSON')
  .option('--data-root <dir>', "the dataset's folder, when it moved since training (for csv: the manifest's folder)")
  .action(async (o: Obj) => {
    const { evaluateCommand } = await import('./commands.js');
    const r = await evaluateCommand({
      run: o.run as string,
      weights: o.weights as string | undefined,
      split: o.split as 'test' | 'validation',
      nmi: Boolean(o.nmi),
      dataRoot: o.dataRoot as string | undefined,
      quiet: Boolean(o.quiet),
    });
    process.stdout.write(formatMetrics(r) + '\n');
    if (o.json) writeFileSync(o.json as string, JSON.stringify(r, null, 2) + '\n');
  });

program
  .command('embed')
  .description('write embeddings of a split (or of an image folder) to a .npy or .safetensors file')
  .requiredOption('-r, --run <dir>', 'run folder')
  .requiredOption('-o, --output <file>', 'output file: .npy (embeddings; labels in <name>.labels.npy) or .safetensors')
  .addOption(new Option('--split <name>', 'dataset split').choices(['train', 'validation', 'test']).default('test'))
  .option('--images <dir>', 'embed the images of this folder instead (class = sub-folder)')
  .option('--raw', 'raw head outputs (default: N(v)-normalised as used for retrieval)')
  .option('--data-root <dir>', "the dataset's folder, when it moved since training (for csv: the manifest's folder)")
  .action(async (o: Obj) => {
    const { embedCommand } = await import('./commands.js');
    const r = await embedCommand({
      run: o.run as string,
      output: o.output as string,
      split: o.split as 'train' | 'validation' | 'test',
      images: o.images as string | undefined,
      raw: Boolean(o.raw),
      dataRoot: o.dataRoot as string | undefined,
      quiet: Boolean(o.quiet),
    });
    process.stdout.write(`wrote ${r.count} embeddings of dimension ${r.dim} to ${r.files.join(', ')}\n`);
  });

program
  .command('search')
  .description('embed a gallery folder and query images, print the top-k gallery images for each query')
  .requiredOption('-r, --run <dir>', 'run folder')
  .requiredOption('-g, --gallery <dir>', 'gallery image folder (sub-folders are shown as labels)')
  .argument('<queries...>', 'query image files')
  .option('-k, --top <k>', 'results per query', num('--top'), 5)
  .option('--json', 'print JSON')
  .option('--exclude-self', 'leave a query out of its own results (the same file in the gallery)')
  .action(async (queries: string[], o: Obj) => {
    const { searchCommand } = await import('./commands.js');
    const r = await searchCommand({ run: o.run as string, gallery: o.gallery as string, queries, k: o.top as number, excludeSelf: Boolean(o.excludeSelf) });
    if (o.json) {
      process.stdout.write(JSON.stringify(r, null, 2) + '\n');
      return;
    }
    for (const q of r) {
      process.stdout.write(`${q.query}\n`);
      q.results.forEach((m, i) => process.stdout.write(`  ${i + 1}. ${m.distance.toFixed(4)}  ${m.label ? `[${m.label}] ` : ''}${m.path}\n`));
    }
  });

registerIndexCommands(program);
registerServeCommand(program);
registerExportCommand(program);
addCommonOptions(program);
program.hook('preAction', (_program, command) => applyCommonOptions(command.opts()));
addRunOptions(
  program.commands.filter((c) => ['eval', 'embed', 'search', 'index', 'serve'].includes(c.name())),
  new Set(['index remove', 'index compact', 'index info']),
);

program.parseAsync(process.argv).then(
  () => {
    if (endsWithAction(process.argv)) exitWhenFlushed(0);
  },
  (e: Error) => {
    process.stderr.write(`ccp-dml: ${e.message}\n`);
    exitWhenFlushed(1);
  },
);
