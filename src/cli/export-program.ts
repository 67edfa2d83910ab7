// Command-line definition of export: an ONNX file of the run's model, and/or the static browser demo.
import type { Command } from 'commander';

type Obj = Record<string, unknown>;

export function registerExportCommand(program: Command): void {
  program
    .command('export')
    .description("write the run's model as ONNX (pixels 0-255 -> normalised embedding, dynamic batch), and/or a static browser demo")
    .requiredOption('-r, --run <dir>', 'run folder')
    .option('--onnx <file>', 'ONNX file to write')
    .option('--web <dir>', 'write the browser demo into this (new or empty) folder')
    .option('-g, --gallery <dir>', 'gallery image folder for --web (sub-folders are labels)')
    .option('-k, --top <k>', 'neighbours the demo shows', (v) => Number(v), 5)
    .action(async (o: Obj) => {
      if (!o.onnx && !o.web) throw new Error('nothing to export: give --onnx FILE and/or --web DIR');
      if (o.web && !o.gallery) throw new Error('--web needs --gallery DIR (the images the page searches)');
      const k = o.top as number;
      if (!Number.isInteger(k) || k < 1) throw new Error(`--top must be a positive integer, got '${String(o.top)}'`);
      // Loaded here, not at the top: --help stays fast and loads no native code.
      const { exportOnnx, writeWebDemo } = await import('../export/index.js');
      const { writeFileAtomic } = await import('../engine/serialization/index.js');
      const run = (await import('./index-commands.js')).openRun(o.run as string);
      if (o.onnx) {
        const e = run.embedder;
        writeFileAtomic(
          o.onnx as string,
          exportOnnx(e.model, {
            transform: e.transform,
            normalization: e.config.evaluation.normalization,
            metadata: { 'ccp-dml.model-hash': run.identity.hash },
          }),
        );
        process.stdout.write(`wrote ${o.onnx as string}: input "pixels" [batch, ${e.shape.join(', ')}] (0-255), output "embedding" [batch, ${e.dim}]\n`);
      }
      if (o.web) {
        const r = await writeWebDemo({ dir: o.web as string, run, gallery: o.gallery as string, k });
        process.stdout.write(
          `wrote the demo (${r.items} gallery images) to ${r.dir}; serve it with any static server, e.g. python3 -m http.server -d ${r.dir}\n`,
        );
      }
    });
}
