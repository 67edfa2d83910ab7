// `export --web DIR`: a static page that finds the nearest gallery images of a dropped image in the browser.
// Writes the ONNX model, the gallery's embeddings (float32, computed here with the same model) and
// metadata, thumbnails, onnxruntime-web's wasm build, and the page. Serve DIR with any static file server.
import { copyFileSync, mkdirSync, writeFileSync, existsSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import sharp from 'sharp';
import type { RunEmbedder, ModelIdentity } from '../index/index.js';
import { folderImages, itemsOf } from '../index/item-sources.js';
import { exportOnnx, preprocessingOf } from './onnx-export.js';
import { INDEX_HTML, DEMO_JS } from './web-page.js';

/** onnxruntime-web's files the page loads: the wasm build's script, its module loader and the binary. */
const ORT_FILES = ['ort.wasm.min.js', 'ort-wasm-simd-threaded.mjs', 'ort-wasm-simd-threaded.wasm'];

function ortDist(): string {
  const dir = dirname(createRequire(import.meta.url).resolve('onnxruntime-web'));
  for (const f of ORT_FILES) if (!existsSync(join(dir, f))) throw new Error(`onnxruntime-web: ${f} not found in ${dir} (reinstall the package)`);
  return dir;
}

export interface WebDemoOptions {
  dir: string;
  run: { embedder: RunEmbedder; identity: ModelIdentity };
  /** Image folder (sub-folders are labels). */
  gallery: string;
  /** Neighbours shown (default 5). */
  k?: number;
}

export async function writeWebDemo(o: WebDemoOptions): Promise<{ dir: string; items: number; files: number }> {
  if (existsSync(o.dir) && readdirSync(o.dir).length) throw new Error(`--web ${o.dir}: the folder exists and is not empty`);
  const { embedder, identity } = o.run;
  const ds = folderImages(o.gallery);
  const items = itemsOf(ds, o.gallery);
  mkdirSync(join(o.dir, 'images'), { recursive: true });
  mkdirSync(join(o.dir, 'ort'), { recursive: true });
  const vectors = await embedder.embedDataset(ds);
  writeFileSync(join(o.dir, 'gallery.f32'), new Uint8Array(vectors.buffer, vectors.byteOffset, vectors.byteLength));
  const meta = {
    model: { name: identity.name, hash: identity.hash },
    dim: embedder.dim,
    k: o.k ?? 5,
    preprocessing: preprocessingOf(embedder.transform),
    items: await Promise.all(
      items.map(async (it, i) => {
        const image = `images/${i}.png`;
        await sharp(it.path!).resize(128, 128, { fit: 'inside', withoutEnlargement: true }).png().toFile(join(o.dir, image));
        return { id: it.id, label: it.label, image };
      }),
    ),
  };
  writeFileSync(join(o.dir, 'gallery.json'), JSON.stringify(meta));
  writeFileSync(
    join(o.dir, 'model.onnx'),
    exportOnnx(embedder.model, {
      transform: embedder.transform,
      normalization: embedder.config.evaluation.normalization,
      metadata: { 'ccp-dml.model-hash': identity.hash },
    }),
  );
  const ort = ortDist();
  for (const f of ORT_FILES) copyFileSync(join(ort, f), join(o.dir, 'ort', f));
  writeFileSync(join(o.dir, 'index.html'), INDEX_HTML);
  writeFileSync(join(o.dir, 'demo.js'), DEMO_JS);
  return { dir: o.dir, items: items.length, files: items.length + ORT_FILES.length + 5 };
}
