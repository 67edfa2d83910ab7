// Loopback load test of `ccp-dml serve` (127.0.0.1 only, bounded in count and time): a server process over an
// index, autocannon sending BENCH_SERVE_REQUESTS (default 10,000) search-by-vector requests and as many
// search-by-image requests; p50/p99 latency, requests/s, errors, and the server's RSS sampled every 250 ms
// (flat memory: the growth between the end of the warm-up and the end of each phase), then a corpus of
// malformed requests (status, error code, and whether /health still answers after each).
// Run and index: BENCH_SERVE_RUN (a run folder) with BENCH_SERVE_IMAGES (an image folder to index), or,
// when unset, a generated run (small CNN, random weights) over BENCH_SERVE_ITEMS (2,000) generated 28x28 images.
import { mkdtempSync, rmSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { spawn, type ChildProcess } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import autocannon from 'autocannon';
import sharp from 'sharp';
import { manualSeed } from '../src/engine/index.js';
import { saveModule } from '../src/engine/serialization/index.js';
import { parseRunConfig } from '../src/training/config.js';
import { buildModel } from '../src/training/build.js';
import { outputShape } from '../src/data/index.js';
import { transformFor } from '../src/training/data-setup.js';
import { seededRandom } from '../src/engine/testing/index.js';
import { indexBuild } from '../src/cli/index-commands.js';
import { folderImages } from '../src/index/index.js';
import { formatTable, writeResults } from './common/index.js';

const REQUESTS = Number(process.env.BENCH_SERVE_REQUESTS ?? 10_000);
const CONNECTIONS = Number(process.env.BENCH_SERVE_CONNECTIONS ?? 8);
const MAX_SECONDS = Number(process.env.BENCH_SERVE_MAX_SECONDS ?? 300);
const CLASSES = Math.max(1, Math.round(Number(process.env.BENCH_SERVE_ITEMS ?? 2000) / 50));

async function generatedRun(root: string): Promise<{ run: string; images: string }> {
  const images = join(root, 'images');
  for (let c = 0; c < CLASSES; c++) {
    mkdirSync(join(images, `c${c}`), { recursive: true });
    for (let i = 0; i < 50; i++) {
      const r = seededRandom(c * 1000 + i);
      const px = Buffer.from(Uint8Array.from({ length: 28 * 28 }, (_, p) => ((p * (c + 1)) % 251) * 0.7 + 60 * r()));
      writeFileSync(
        join(images, `c${c}`, `${i}.png`),
        await sharp(px, { raw: { width: 28, height: 28, channels: 1 } })
          .png()
          .toBuffer(),
      );
    }
  }
  const config = parseRunConfig({ dataset: { name: 'folder', root: images, imageSize: 28, channels: 1 }, model: { name: 'small_cnn', embeddingDim: 64 } });
  const run = join(root, 'run');
  mkdirSync(run);
  writeFileSync(join(run, 'config.json'), JSON.stringify(config));
  manualSeed(0);
  saveModule(join(run, 'model.safetensors'), buildModel(config, outputShape(transformFor(config.dataset))));
  return { run, images };
}

function rssKB(pid: number): number {
  const m = readFileSync(`/proc/${pid}/status`, 'utf8').match(/^VmRSS:\s+(\d+)/m);
  return m ? Number(m[1]) : -1;
}

/** A corpus of malformed requests after the load: each must get a 4xx JSON error, the server staying up. */
async function malformedCorpus(url: string, dim: number): Promise<{ what: string; status: number; code: string; upAfter: boolean }[]> {
  // Above the default --max-pixels (16 M); black compresses to a small PNG, so it is the pixel limit that answers.
  const huge = await sharp({ create: { width: 5000, height: 4000, channels: 3, background: '#000' } })
    .png({ compressionLevel: 9 })
    .toBuffer();
  const json = 'application/json';
  const vector = Array(dim).fill(0.1);
  const corpus: [string, string, string, string | Buffer][] = [
    ['bad JSON', '/search', json, '{"vector": [1,'],
    ['wrong vector length', '/search', json, JSON.stringify({ vector: [1, 2, 3] })],
    ['k = 0', '/search', json, JSON.stringify({ vector, k: 0 })],
    ['k = 1e9', '/search', json, JSON.stringify({ vector, k: 1e9 })],
    ['corrupt image', '/search', 'image/png', Buffer.from('this is not a png at all')],
    ['huge image (5000x4000)', '/search', 'image/png', huge],
    ['unknown route', '/nope', json, '{}'],
  ];
  const out = [];
  for (const [what, path, type, body] of corpus) {
    const r = await fetch(url + path, { method: 'POST', headers: { 'content-type': type }, body: typeof body === 'string' ? body : new Uint8Array(body) });
    const j = (await r.json()) as { error?: { code: string } };
    const upAfter = (await fetch(url + '/health')).status === 200;
    out.push({ what, status: r.status, code: j.error?.code ?? '(none)', upAfter });
  }
  return out;
}

async function main(): Promise<void> {
  const tmp = mkdtempSync(join(tmpdir(), 'ccp-bench-serve-'));
  let child: ChildProcess | undefined;
  try {
    const given = process.env.BENCH_SERVE_RUN ? { run: process.env.BENCH_SERVE_RUN, images: process.env.BENCH_SERVE_IMAGES ?? '' } : await generatedRun(tmp);
    if (!given.images) throw new Error('BENCH_SERVE_RUN needs BENCH_SERVE_IMAGES (the folder to index)');
    const index = join(tmp, 'bench.index');
    const info = await indexBuild({ run: given.run, index, images: given.images, quiet: true });
    const sample = folderImages(given.images).items[0]!.source as { path: string };
    const png = readFileSync(sample.path);

    child = spawn(
      process.execPath,
      [resolve('dist/src/cli/main.js'), 'serve', '-r', given.run, '-i', index, '-p', '0', '--host', '127.0.0.1', '--queue', '256'],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    const url = await new Promise<string>((res, rej) => {
      let out = '';
      child!.stdout!.on('data', (d: Buffer) => {
        out += d.toString();
        const m = /on (http:\/\/127\.0\.0\.1:\d+)/.exec(out);
        if (m) res(m[1]!);
      });
      child!.on('exit', (c) => rej(new Error(`serve exited with ${c}`)));
    });
    const pid = child.pid!;
    const embedding = (
      (await (await fetch(url + '/embed', { method: 'POST', headers: { 'content-type': 'image/png' }, body: new Uint8Array(png) })).json()) as {
        embedding: number[];
      }
    ).embedding;

    const samples: number[] = [];
    const sampler = setInterval(() => samples.push(rssKB(pid)), 250);
    // Bounded in count (amount) and in time (stopped after MAX_SECONDS).
    const load = async (o: Partial<autocannon.Options>): Promise<autocannon.Result> => {
      const run = autocannon({ url: url + '/search', method: 'POST', connections: CONNECTIONS, timeout: 30, ...o });
      const timer = setTimeout(() => (run as unknown as autocannon.Instance).stop(), MAX_SECONDS * 1000); // the promise is also the instance
      try {
        return await run;
      } finally {
        clearTimeout(timer);
      }
    };
    const vectorBody = { headers: { 'content-type': 'application/json' }, body: JSON.stringify({ vector: embedding, k: 10 }) };
    const imageBody = { headers: { 'content-type': 'image/png' }, body: png };
    await load({ ...vectorBody, amount: 500 }); // warm-up
    const rssWarm = rssKB(pid);
    const rows: (string | number)[][] = [];
    const results: Record<string, unknown> = {};
    for (const [name, body] of [
      ['search by vector', vectorBody],
      ['search by image', imageBody],
    ] as const) {
      const r = await load({ ...body, amount: REQUESTS });
      const rssEnd = rssKB(pid);
      const bad = r.errors + r.timeouts + r.non2xx;
      rows.push([name, r.requests.total, bad, r.latency.p50, r.latency.p99, r.requests.average, (rssEnd - rssWarm) / 1024, rssEnd / 1024]);
      results[name] = {
        requests: r.requests.total,
        errors: r.errors,
        timeouts: r.timeouts,
        non2xx: r.non2xx,
        p50ms: r.latency.p50,
        p99ms: r.latency.p99,
        rps: r.requests.average,
        rssGrowthMB: (rssEnd - rssWarm) / 1024,
      };
    }
    const malformed = await malformedCorpus(url, embedding.length);
    clearInterval(sampler);
    console.log(`\nserve on ${url}: ${info.size} items (${info.dim}-d), ${CONNECTIONS} connections, ${REQUESTS} requests per phase after 500 warm-up`);
    console.log(formatTable(['phase', 'requests', 'errors', 'p50 ms', 'p99 ms', 'req/s', 'RSS growth MB', 'RSS MB'], rows));
    console.log(
      formatTable(
        ['malformed request', 'status', 'error code', 'server up after'],
        malformed.map((m) => [m.what, m.status, m.code, m.upAfter ? 'yes' : 'NO']),
      ),
    );
    console.log(`server RSS over the run (MB): min ${(Math.min(...samples) / 1024).toFixed(0)}, max ${(Math.max(...samples) / 1024).toFixed(0)}`);
    writeResults('bench/results/serve.json', {
      date: new Date().toISOString(),
      items: info.size,
      dim: info.dim,
      connections: CONNECTIONS,
      rssWarmMB: rssWarm / 1024,
      ...results,
      malformed,
      rssSamplesMB: samples.map((s) => Math.round(s / 1024)),
    });
    child.kill('SIGTERM');
    await new Promise((r) => child!.on('exit', r));
    child = undefined;
  } finally {
    child?.kill('SIGKILL');
    rmSync(tmp, { recursive: true, force: true });
  }
}

main().catch((e: Error) => {
  console.error(e);
  process.exit(1);
});
