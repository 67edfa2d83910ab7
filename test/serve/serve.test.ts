// The search service over loopback: the API, a corpus of malformed requests (each a clear 4xx JSON error
// naming the problem, the server still up after each), a small load run with no error, and SIGTERM draining
// a request in flight and leaving the index saved.
import test from 'node:test';
import assert from 'node:assert/strict';
import { rmSync, readFileSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import autocannon from 'autocannon';
import { indexBuild, openRun } from '../../src/cli/index-commands.js';
import { startServer, type RunningServer } from '../../src/serve/index.js';
import { VectorIndex } from '../../src/index/index.js';
import { makeTinyRun, classImage, type TinyRun } from '../helpers/tiny-run.js';
import { tempDir } from '../helpers/tmp.js';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const tmp = tempDir('serve');
let tiny: TinyRun;
let server: RunningServer;
let indexDir: string;

test.before(async () => {
  tiny = await makeTinyRun(join(tmp, 'run'));
  indexDir = join(tmp, 'gallery.index');
  await indexBuild({ run: tiny.runDir, index: indexDir, images: tiny.imagesDir, quiet: true });
  server = await startServer({ run: openRun(tiny.runDir), index: indexDir, port: 0, limits: { bodyBytes: 1 << 20, maxK: 100, imagePixels: 1_000_000 } });
});
test.after(async () => {
  await server?.stop();
  rmSync(tmp, { recursive: true, force: true });
});

async function call(method: string, path: string, body?: Buffer | string | object, type?: string): Promise<{ status: number; json: Record<string, any> }> {
  const headers: Record<string, string> = {};
  let payload: Buffer | string | undefined;
  if (Buffer.isBuffer(body)) {
    payload = body;
    headers['content-type'] = type ?? 'image/png';
  } else if (typeof body === 'string') {
    payload = body;
    headers['content-type'] = type ?? 'application/json';
  } else if (body !== undefined) {
    payload = JSON.stringify(body);
    headers['content-type'] = 'application/json';
  }
  const r = await fetch(server.url + path, { method, headers, body: Buffer.isBuffer(payload) ? new Uint8Array(payload) : payload });
  return { status: r.status, json: (await r.json()) as Record<string, any> };
}

test('health, info, embed, search by vector and by image, add and remove', async () => {
  const h = await call('GET', '/health');
  assert.equal(h.status, 200);
  assert.equal(h.json.items, tiny.files.length);
  const info = await call('GET', '/info');
  assert.equal(info.json.index.dim, 8);
  assert.equal(info.json.limits.maxK, 100);
  // Where the server computes (the run loads on the CPU unless --device says otherwise).
  assert.equal(info.json.execution.device, 'cpu');
  assert.ok(['fp32', 'bf16'].includes(info.json.execution.precision), info.json.execution.precision);

  const png = readFileSync(tiny.files[3]!.path);
  const e = await call('POST', '/embed', png);
  assert.equal(e.status, 200);
  assert.equal(e.json.embedding.length, 8);
  const byImage = await call('POST', '/search?k=3', png);
  assert.equal(byImage.status, 200);
  assert.equal(byImage.json.results[0].id, 'class00/img3.png');
  assert.equal(byImage.json.results[0].distance, 0);
  const byVector = await call('POST', '/search', { vector: e.json.embedding, k: 2, label: 'class00' });
  assert.equal(byVector.json.results[0].distance, 0);
  assert.ok(byVector.json.results.every((r: { label: string }) => r.label === 'class00'));

  const added = await call('POST', '/items', { id: 'new-item', vector: Array(8).fill(0.25), label: 'extra' });
  assert.equal(added.status, 201);
  const extra = await call('POST', '/items?id=new-image&label=class02', await classImage(2, 77));
  assert.equal(extra.status, 201);
  const again = await call('POST', '/search', { vector: Array(8).fill(0.25), k: 1 });
  assert.deepEqual(again.json.results[0], { id: 'new-item', path: null, label: 'extra', distance: 0 });
  assert.equal((await call('DELETE', '/items/new-item')).status, 200);
  assert.equal((await call('DELETE', '/items/new-image')).status, 200);
  assert.equal((await call('GET', '/health')).json.items, tiny.files.length);
});

test('malformed requests get a 4xx JSON error naming the problem; the server stays up', async () => {
  const huge = await sharp({ create: { width: 1200, height: 1000, channels: 3, background: '#000' } })
    .png({ compressionLevel: 1 })
    .toBuffer();
  const vector = Array(8).fill(0.1);
  const corpus: [string, string, Buffer | string | object | undefined, string | undefined, number, string, RegExp][] = [
    ['bad JSON', '/search', '{"vector": [1,', undefined, 400, 'bad_json', /not valid JSON/],
    ['empty JSON', '/search', '', undefined, 400, 'bad_json', /JSON|empty/i],
    ['vector too short', '/search', { vector: [1, 2, 3] }, undefined, 400, 'invalid_field', /vector: must have 8 values/],
    ['vector not numbers', '/search', { vector: Array(8).fill('x') }, undefined, 400, 'invalid_field', /vector\.0: /],
    ['vector missing', '/search', { k: 3 }, undefined, 400, 'invalid_field', /vector: /],
    ['unknown field', '/search', { vector, kk: 3 }, undefined, 400, 'invalid_field', /kk/],
    ['k = 0', '/search', { vector, k: 0 }, undefined, 400, 'invalid_field', /k: must be in 1\.\.100/],
    ['k = 1e9', '/search', { vector, k: 1e9 }, undefined, 400, 'invalid_field', /k: must be in 1\.\.100/],
    ['k = 2.5', '/search', { vector, k: 2.5 }, undefined, 400, 'invalid_field', /k: must be an integer/],
    ['k in the query string = 0', '/search?k=0', readFileSync(tiny.files[0]!.path), undefined, 400, 'invalid_field', /query string: k: must be in 1\.\.100/],
    ['corrupt image', '/search', Buffer.from('this is not a png at all'), undefined, 400, 'bad_image', /not a decodable image/],
    ['truncated PNG', '/embed', readFileSync(tiny.files[0]!.path).subarray(0, 60), undefined, 400, 'bad_image', /image/],
    ['empty image body', '/embed', Buffer.alloc(0), 'application/octet-stream', 400, 'empty_body', /body is empty/],
    ['huge image', '/search', huge, undefined, 413, 'image_too_large', /1200x1000 \(1200000 pixels\), above the limit of 1000000 pixels/],
    ['body over the limit', '/embed', Buffer.alloc(2 << 20, 1), undefined, 413, 'body_too_large', /too large/i],
    ['wrong content type', '/search', 'vector=1', 'text/plain', 415, 'unsupported_media_type', /text\/plain/],
    ['JSON that is not an object', '/search', '[1, 2]', undefined, 400, 'invalid_field', /body: Invalid input: expected object, received array/],
    ['JSON to /embed', '/embed', { vector }, undefined, 415, 'unsupported_media_type', /takes image bytes/],
    ['image add without id', '/items', readFileSync(tiny.files[0]!.path), undefined, 400, 'invalid_field', /id is required/],
    ['duplicate id', '/items', { id: 'class00/img0.png', vector }, undefined, 409, 'duplicate_id', /already in the index/],
    ['unknown route', '/nope', undefined, undefined, 404, 'not_found', /no route POST \/nope \(routes: /],
  ];
  for (const [what, path, body, type, status, code, message] of corpus) {
    const r = await call('POST', path, body, type);
    assert.equal(r.status, status, `${what}: status ${r.status} ${JSON.stringify(r.json)}`);
    assert.equal(r.json.error?.code, code, `${what}: ${JSON.stringify(r.json)}`);
    assert.match(r.json.error.message, message, what);
    assert.equal((await call('GET', '/health')).status, 200, `alive after: ${what}`);
  }
  const del = await call('DELETE', '/items/does-not-exist');
  assert.deepEqual([del.status, del.json.error.code], [404, 'unknown_id']);
  const get = await call('GET', '/search');
  assert.deepEqual([get.status, get.json.error.code], [404, 'not_found']);
});

test('a short load run: 200 vector searches and 40 image searches, no error', async () => {
  const vector = (await call('POST', '/embed', readFileSync(tiny.files[5]!.path))).json.embedding;
  const run = (o: Partial<autocannon.Options>) => autocannon({ ...o, url: server.url + '/search', method: 'POST', connections: 4, timeout: 30 });
  const v = await run({ amount: 200, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ vector, k: 5 }) });
  assert.equal(v.errors + v.timeouts + v.non2xx, 0, JSON.stringify(v.statusCodeStats));
  assert.equal(v['2xx'], 200);
  const i = await run({ amount: 40, headers: { 'content-type': 'image/png' }, body: readFileSync(tiny.files[5]!.path) });
  assert.equal(i.errors + i.timeouts + i.non2xx, 0, JSON.stringify(i.statusCodeStats));
});

test('SIGTERM finishes the request in flight, saves the index and exits 0', { timeout: 120_000 }, async () => {
  await server.stop(); // the CLI process below needs the index's writer lock
  const child = spawn(process.execPath, [join(repo, 'dist/src/cli/main.js'), 'serve', '-r', tiny.runDir, '-i', indexDir, '-p', '0'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let err = '';
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const url = await new Promise<string>((res, rej) => {
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /on (http:\/\/\S+)/.exec(out);
      if (m) res(m[1]!);
    });
    child.on('exit', (c) => rej(new Error(`serve exited ${c}: ${err}`)));
  });
  const added = await fetch(url + '/items', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ id: 'kept', vector: Array(8).fill(0.5) }),
  });
  assert.equal(added.status, 201);
  const inFlight = fetch(url + '/search?k=2', {
    method: 'POST',
    headers: { 'content-type': 'image/png' },
    body: new Uint8Array(readFileSync(tiny.files[1]!.path)),
  });
  await new Promise((r) => setTimeout(r, 20));
  child.kill('SIGTERM');
  const [code, response] = await Promise.all([new Promise<number | null>((r) => child.on('exit', r)), inFlight]);
  assert.equal(response.status, 200);
  assert.equal(code, 0, err);
  assert.match(err, /SIGTERM: finishing requests in flight/);
  const index = VectorIndex.open(indexDir, { readOnly: true });
  assert.ok(index.has('kept'), 'the item added before SIGTERM was saved');
  assert.equal(index.size, tiny.files.length + 1);
  index.close();
});
