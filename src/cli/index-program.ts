// Command-line definitions of index (build, add, remove, search, info) and calibrate.
import { type Command, Option } from 'commander';
import { QUANTIZATIONS, type Quantization } from '../index/quantization.js';
import { DEFAULT_EMBED_BATCH } from '../index/embed-batch.js';
import type { QueryResult } from './index-commands.js';

// Loaded when a command runs: --help and --version stay fast and load no native code.
const commands = () => import('./index-commands.js');

type Obj = Record<string, unknown>;

function int(name: string, min = 1) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < min) throw new Error(`${name} must be an integer >= ${min}, got '${v}'`);
    return n;
  };
}

function num(name: string) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isFinite(n)) throw new Error(`${name} must be a number, got '${v}'`);
    return n;
  };
}

const sourceOptions = (c: Command): Command =>
  c
    .option('--images <dir>', 'image folder (sub-folders are labels; ids are paths relative to it)')
    .option('--csv <file>', 'CSV manifest (path,label[,split])')
    .addOption(new Option('--split <name>', "a split of the run's dataset").choices(['train', 'validation', 'test']))
    .option('--data-root <dir>', "with --split: the dataset's folder, when it moved since training");

function printResults(rs: QueryResult[], json: boolean): void {
  if (json) {
    process.stdout.write(JSON.stringify(rs, null, 2) + '\n');
    return;
  }
  for (const q of rs) {
    const m = q.match === undefined ? '' : q.match === 'unknown' ? '  -> unknown' : `  -> ${q.match.label ?? '(no label)'} (${q.match.distance.toFixed(4)})`;
    process.stdout.write(`${q.query}${m}\n`);
    q.results.forEach((r, i) => process.stdout.write(`  ${i + 1}. ${r.distance.toFixed(4)}  ${r.label !== null ? `[${r.label}] ` : ''}${r.id}\n`));
  }
}

export function registerIndexCommands(program: Command): void {
  const index = program.command('index').description('a persistent nearest-neighbour index of embeddings (usearch HNSW + exact re-rank)');
  registerIndexBuild(index);
  registerIndexAdd(index);
  registerIndexRemove(index);
  registerIndexCompact(index);
  registerIndexSearch(index);
  registerIndexInfo(index);
  registerCalibrate(program);
}

function registerIndexBuild(index: Command): void {
  sourceOptions(
    index
      .command('build')
      .description("embed images with a run's model and write a new index")
      .requiredOption('-r, --run <dir>', 'run folder (its model embeds the images)')
      .requiredOption('-i, --index <dir>', 'index folder to create'),
  )
    .addOption(new Option('--quantization <q>', 'storage of the graph vectors (the re-rank uses float32)').choices([...QUANTIZATIONS]).default('f32'))
    .option('--connectivity <m>', 'HNSW degree', int('--connectivity', 2), 16)
    .option('--expansion-add <n>', 'HNSW candidate list while inserting', int('--expansion-add', 2), 128)
    .option(
      '--expansion-search <n>',
      'candidates fetched from the HNSW graph per query before the exact re-rank (its search list size)',
      int('--expansion-search', 2),
      64,
    )
    .option('--batch-size <n>', 'images per forward pass while embedding', int('--batch-size'), DEFAULT_EMBED_BATCH)
    .option('-q, --quiet', 'no progress bar')
    .action(async (o: Obj) => {
      const info = await (await commands()).indexBuild({
        run: o.run as string,
        index: o.index as string,
        images: o.images as string | undefined,
        csv: o.csv as string | undefined,
        split: o.split as 'train' | undefined,
        dataRoot: o.dataRoot as string | undefined,
        quantization: o.quantization as Quantization,
        connectivity: o.connectivity as number,
        expansionAdd: o.expansionAdd as number,
        expansionSearch: o.expansionSearch as number,
        batchSize: o.batchSize as number,
        quiet: Boolean(o.quiet),
      });
      process.stdout.write(`indexed ${info.size} items (${info.dim}-d, ${info.labels} labels) in ${info.dir}\n`);
    });
}

function registerIndexAdd(index: Command): void {
  sourceOptions(
    index
      .command('add')
      .description('embed more images and add them to an index (no rebuild)')
      .requiredOption('-r, --run <dir>', 'run folder the index was built with')
      .requiredOption('-i, --index <dir>', 'index folder')
      .argument('[files...]', 'image files (id = the path as given)'),
  )
    .option('--label <name>', 'label of the image files given as arguments')
    .option('--batch-size <n>', 'images per forward pass while embedding', int('--batch-size'), DEFAULT_EMBED_BATCH)
    .option('-q, --quiet', 'no progress bar')
    .action(async (files: string[], o: Obj) => {
      const r = await (await commands()).indexAdd({
        run: o.run as string,
        index: o.index as string,
        files,
        label: o.label as string | undefined,
        images: o.images as string | undefined,
        csv: o.csv as string | undefined,
        split: o.split as 'train' | undefined,
        dataRoot: o.dataRoot as string | undefined,
        batchSize: o.batchSize as number,
        quiet: Boolean(o.quiet),
      });
      process.stdout.write(`added ${r.added} items; the index holds ${r.size}\n`);
    });
}

function registerIndexRemove(index: Command): void {
  index
    .command('remove')
    .description('remove items by id')
    .requiredOption('-i, --index <dir>', 'index folder')
    .argument('<ids...>', 'item ids')
    .action(async (ids: string[], o: Obj) => {
      const r = (await commands()).indexRemove({ index: o.index as string, ids });
      process.stdout.write(`removed ${r.removed} items; the index holds ${r.size}\n`);
    });
}

function registerIndexCompact(index: Command): void {
  index
    .command('compact')
    .description('reclaim the space of removed items: rewrite the index without them and rebuild its graph')
    .requiredOption('-i, --index <dir>', 'index folder')
    .action(async (o: Obj) => {
      const r = (await commands()).indexCompact({ index: o.index as string });
      process.stdout.write(`reclaimed ${r.reclaimedRows} rows of removed items; the index holds ${r.size}\n`);
    });
}

function registerIndexSearch(index: Command): void {
  index
    .command('search')
    .description('the k nearest items of query images or vectors (exact distances of the re-ranked candidates)')
    .requiredOption('-i, --index <dir>', 'index folder')
    .option('-r, --run <dir>', 'run folder: embeds query images, checks the index was built with it, and brings its calibration')
    .argument('[images...]', 'query image files')
    .option('--vector <v>', 'query vector(s): comma-separated numbers, or a .npy file [D] or [N, D]')
    .option('-k, --top <k>', 'results per query', int('--top'), 5)
    .option('--label <name>', 'only items with this label')
    .option('--threshold <d>', "match distance threshold (default: the run's calibration, if any)", num('--threshold'))
    .option('--json', 'print JSON')
    .action(async (images: string[], o: Obj) => {
      const rs = await (await commands()).indexSearch({
        index: o.index as string,
        run: o.run as string | undefined,
        queries: images,
        vector: o.vector as string | undefined,
        k: o.top as number,
        label: o.label as string | undefined,
        threshold: o.threshold as number | undefined,
      });
      printResults(rs, Boolean(o.json));
    });
}

function registerIndexInfo(index: Command): void {
  index
    .command('info')
    .description('size, settings and model of an index')
    .requiredOption('-i, --index <dir>', 'index folder')
    .action(async (o: Obj) => {
      process.stdout.write(JSON.stringify((await commands()).indexInfo({ index: o.index as string }), null, 2) + '\n');
    });
}

function registerCalibrate(program: Command): void {
  program
    .command('calibrate')
    .description('choose the match distance threshold on the validation split (saved as <run>/calibration.json, curve in calibration.svg)')
    .requiredOption('-r, --run <dir>', 'run folder')
    .addOption(new Option('--metric <m>', 'reach a target precision, or maximise F1').choices(['precision', 'f1']).default('precision'))
    .option('--target <p>', 'target precision', num('--target'), 0.9)
    .option('--no-plot', 'skip the SVG plot')
    .option('--data-root <dir>', "the dataset's folder, when it moved since training")
    .action(async (o: Obj) => {
      const goal = o.metric === 'f1' ? ({ metric: 'f1' } as const) : ({ metric: 'precision', target: o.target as number } as const);
      const { calibration: c, files } = await (await commands()).calibrateCommand({
        run: o.run as string,
        goal,
        plot: Boolean(o.plot),
        dataRoot: o.dataRoot as string | undefined,
      });
      process.stdout.write(
        `threshold ${c.threshold.toFixed(4)}: precision ${c.precision.toFixed(4)}, recall ${c.recall.toFixed(4)}, F1 ${c.f1.toFixed(4)} on ${c.queries} validation queries\nwrote ${files.join(', ')}\n`,
      );
    });
}
