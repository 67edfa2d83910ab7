// safetensors read / write (every dtype, Python interop both ways, corrupt files), atomic writes,
// module and optimizer state files.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync, readdirSync, mkdirSync, rmSync, existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { tensor, zeros, tidy, type Tensor, manualSeed, type DType } from '../../src/engine/index.js';
import { Linear, BatchNorm1d, Sequential, ReLU } from '../../src/engine/nn/index.js';
import { Adam } from '../../src/engine/optim/index.js';
import {
  saveSafetensors,
  loadSafetensors,
  serializeSafetensors,
  parseSafetensors,
  writeFileAtomic,
  saveModule,
  loadModule,
  saveOptimizer,
  loadOptimizer,
} from '../../src/engine/serialization/index.js';
import { tempDir } from '../helpers/tmp.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const FIXDIR = join(ROOT, 'test', 'fixtures', 'engine');
const FIX = JSON.parse(readFileSync(join(FIXDIR, 'optim.json'), 'utf8'));
const SCRIPT = join(ROOT, 'scripts', 'fixtures', 'engine_optim.py');
const PY = '/usr/bin/python3';

const tmp = tempDir('ser');
process.on('exit', () => rmSync(tmp, { recursive: true, force: true }));

const ST_TO_DTYPE: Record<string, DType> = {
  F32: 'float32',
  F64: 'float64',
  F16: 'float16',
  BF16: 'bfloat16',
  I64: 'int64',
  I32: 'int32',
  I16: 'int16',
  I8: 'int8',
  U8: 'uint8',
  BOOL: 'bool',
};

function values(t: Tensor): number[] {
  if (t.dtype === 'float16' || t.dtype === 'bfloat16') return t.to('float64').toArray();
  if (t.dtype === 'int64') return Array.from(t.dataSync() as BigInt64Array, Number);
  return t.toArray();
}

/** One tensor per dtype with awkward values (extremes, signed zero, NaN-free). */
function everyDtype(): Map<string, Tensor> {
  return new Map<string, Tensor>([
    ['f32', tensor(Float32Array.from([1.5, -2.25, 3.4e38, -0, 1e-40, 7]), [2, 3])],
    ['f64', tensor(Float64Array.from([Math.PI, -1e-300, 1e300]), [3], { dtype: 'float64' })],
    ['f16', tensor([1, -0.5, 65504, 6.103515625e-5, 0.0999755859375, 2 ** -24], [6], { dtype: 'float16' })],
    ['bf16', tensor([1, -3.140625, 0.10009765625, -1e38], [2, 2], { dtype: 'bfloat16' })],
    ['i64', tensor(BigInt64Array.from([0n, -1n, 2n ** 40n, -(2n ** 50n), 2n ** 62n]), [5])],
    ['i32', tensor(Int32Array.from([7, -8, 2 ** 31 - 1, -(2 ** 31)]), [2, 2])],
    ['i16', tensor(Int16Array.from([-32768, 32767, 5]), [3])],
    ['i8', tensor(Int8Array.from([-128, 127, 0]), [3])],
    ['u8', tensor(Uint8Array.from([0, 255, 17]), [1, 3])],
    ['bool', tensor([true, false, true, true], [4])],
    ['scalar', tensor(2.5)],
    ['empty', zeros([0, 3])],
    ['a.b.c', tensor([[1, 2, 3]])],
  ]);
}

test('safetensors roundtrip keeps dtype, shape, values and metadata for every dtype', () =>
  tidy(() => {
    const src = everyDtype();
    const path = join(tmp, 'all.safetensors');
    saveSafetensors(path, src, { hello: 'world', json: '{"a":1}' });
    const buf = readFileSync(path);
    const n = Number(buf.readBigUInt64LE(0));
    assert.equal(n % 8, 0, 'header padded to 8 bytes');
    const headerText = buf.subarray(8, 8 + n).toString('utf8');
    assert.match(headerText, /\} *$/, 'padding is spaces');
    assert.deepEqual(JSON.parse(headerText).f32, { dtype: 'F32', shape: [2, 3], data_offsets: [0, 24] });
    assert.equal(buf.length, 8 + n + JSON.parse(headerText)['a.b.c'].data_offsets[1]);
    const back = loadSafetensors(path);
    assert.deepEqual(back.metadata, { hello: 'world', json: '{"a":1}' });
    assert.deepEqual([...back.keys()], [...src.keys()]);
    for (const [k, t] of src) {
      const b = back.get(k)!;
      assert.equal(b.dtype, t.dtype, `${k} dtype`);
      assert.deepEqual(b.shape, t.shape, `${k} shape`);
      assert.deepEqual(values(b), values(t), `${k} values`);
    }
    assert.equal(back.tensors, back);
    // i64 beyond 2^53 is exact
    assert.equal((back.get('i64')!.dataSync() as BigInt64Array)[4], 2n ** 62n);
    assert.ok(Object.is(values(back.get('f32')!)[3], -0), 'negative zero kept');
    back.dispose();
    assert.ok([...back.values()].every((t) => t.isDisposed));
  }));

test('a safetensors file written by Python (fixture) loads with the right values', () =>
  tidy(() => {
    const f = FIX.safetensors;
    const file = loadSafetensors(join(FIXDIR, f.file));
    assert.deepEqual(file.metadata, f.metadata);
    assert.deepEqual([...file.keys()].sort(), Object.keys(f.tensors).sort());
    for (const [name, e] of Object.entries(f.tensors) as [string, { dtype: string; shape: number[]; values: number[] }][]) {
      const t = file.get(name)!;
      assert.equal(t.dtype, ST_TO_DTYPE[e.dtype], `${name} dtype`);
      assert.deepEqual(t.shape, e.shape, `${name} shape`);
      const v = values(t);
      if (e.dtype === 'F32') v.forEach((x, i) => assert.ok(x === e.values[i] || Math.abs(x - e.values[i]!) <= Math.abs(e.values[i]!) * 1e-7, `${name}[${i}]`));
      else assert.deepEqual(v, e.values.map(Number), `${name} values`);
    }
  }));

test('a file written here reads in Python (torch) with the right dtypes and values', () =>
  tidy(() => {
    const src = everyDtype();
    const path = join(tmp, 'for-python.safetensors');
    saveSafetensors(path, src, { from: 'ts' });
    const out = JSON.parse(execFileSync(PY, [SCRIPT, 'read', path], { encoding: 'utf8' }));
    assert.deepEqual(out.metadata, { from: 'ts' });
    for (const [k, t] of src) {
      const e = out.tensors[k];
      assert.ok(e, `python sees ${k}`);
      assert.equal(ST_TO_DTYPE[e.dtype], t.dtype, `${k} dtype`);
      assert.deepEqual(e.shape, t.shape, `${k} shape`);
      const v = values(t);
      const pv = (e.values as (number | boolean)[]).map(Number);
      assert.deepEqual(pv, v, `${k} values`);
    }
  }));

test('truncated and corrupt files fail with errors naming the file', () =>
  tidy(() => {
    const good = serializeSafetensors(
      new Map([
        ['w', tensor([1, 2, 3, 4])],
        ['b', tensor([5])],
      ]),
      { m: 'x' },
    );
    const write = (name: string, bytes: Uint8Array): string => {
      const p = join(tmp, name);
      writeFileSync(p, bytes);
      return p;
    };
    const cases: [string, Uint8Array, RegExp][] = [
      ['short.safetensors', good.subarray(0, 5), /truncated.*header length/],
      ['cut-header.safetensors', good.subarray(0, 20), /truncated: header needs/],
      ['cut-data.safetensors', good.subarray(0, good.length - 3), /truncated: tensor '(w|b)'/],
      ['empty.safetensors', new Uint8Array(0), /truncated/],
    ];
    const huge = Buffer.from(good);
    huge.writeBigUInt64LE(2n ** 40n, 0);
    cases.push(['huge-header.safetensors', huge, /too large/]);
    const badJson = Buffer.from(good);
    badJson[8] = 0x7b + 1; // '|' instead of '{'
    cases.push(['bad-json.safetensors', badJson, /not valid JSON/]);
    const mk = (header: object, data = Buffer.alloc(16)) => {
      let h = JSON.stringify(header);
      h += ' '.repeat((8 - (h.length % 8)) % 8);
      const len = Buffer.alloc(8);
      len.writeBigUInt64LE(BigInt(h.length));
      return Buffer.concat([len, Buffer.from(h), data]);
    };
    cases.push(['bad-dtype.safetensors', mk({ x: { dtype: 'C64', shape: [1], data_offsets: [0, 8] } }), /tensor 'x': unsupported dtype "C64"/]);
    cases.push(['bad-size.safetensors', mk({ x: { dtype: 'F32', shape: [3], data_offsets: [0, 8] } }), /tensor 'x'.*needs 12/]);
    cases.push([
      'overlap.safetensors',
      mk({ x: { dtype: 'F32', shape: [2], data_offsets: [0, 8] }, y: { dtype: 'F32', shape: [2], data_offsets: [4, 12] } }),
      /overlap/,
    ]);
    cases.push(['bad-meta.safetensors', mk({ __metadata__: { a: 1 } }), /__metadata__ 'a' is not a string/]);
    cases.push(['bad-shape.safetensors', mk({ x: { dtype: 'F32', shape: [-1], data_offsets: [0, 4] } }), /bad shape/]);
    for (const [name, bytes, re] of cases) {
      const p = write(name, bytes);
      assert.throws(
        () => loadSafetensors(p),
        (err: Error) => {
          assert.ok(err.message.includes(p), `${name}: message names the file: ${err.message}`);
          assert.match(err.message, re, name);
          return true;
        },
      );
    }
    assert.throws(() => loadSafetensors(join(tmp, 'missing.safetensors')), /cannot read '.*missing\.safetensors'/);
    assert.throws(() => parseSafetensors(good.subarray(0, 3), 'memory'), /safetensors: memory: file is truncated/);
    assert.throws(() => serializeSafetensors({ __metadata__: tensor([1]) }), /cannot be a tensor name/);
    const gone = tensor([1]);
    gone.dispose();
    assert.throws(() => saveSafetensors(join(tmp, 'x.safetensors'), { gone }), /x\.safetensors.*disposed/);
  }));

test('writeFileAtomic replaces the whole file and leaves no temporary file on failure', () => {
  const dir = join(tmp, 'atomic');
  mkdirSync(dir);
  const target = join(dir, 'state.bin');
  writeFileAtomic(target, 'old contents that are longer');
  writeFileAtomic(target, Buffer.from('new'));
  assert.equal(readFileSync(target, 'utf8'), 'new');
  assert.deepEqual(readdirSync(dir), ['state.bin']);
  // rename onto a non-empty directory fails: the error names the path, no temporary file remains
  const blocked = join(dir, 'blocked');
  mkdirSync(blocked);
  writeFileSync(join(blocked, 'x'), 'x');
  assert.throws(() => writeFileAtomic(blocked, 'data'), /writeFileAtomic: cannot write '.*blocked'/);
  assert.deepEqual(readdirSync(dir).sort(), ['blocked', 'state.bin']);
  // a directory that does not exist: nothing is created
  assert.throws(() => writeFileAtomic(join(dir, 'nope', 'f.bin'), 'x'), /cannot write/);
  assert.equal(existsSync(join(dir, 'nope')), false);
  // a failing save keeps the previous file intact
  const st = join(dir, 'w.safetensors');
  tidy(() => saveSafetensors(st, { a: tensor([1, 2]) }));
  const before = readFileSync(st);
  const gone = tensor([1]);
  gone.dispose();
  assert.throws(() => saveSafetensors(st, { a: tensor([3]), gone }));
  assert.deepEqual(readFileSync(st), before);
  assert.deepEqual(readdirSync(dir).sort(), ['blocked', 'state.bin', 'w.safetensors']);
});

test('saveModule / loadModule roundtrip; mismatches name the file', () =>
  tidy(() => {
    manualSeed(5);
    const make = () => new Sequential(new Linear(3, 4), new BatchNorm1d(4), new ReLU(), new Linear(4, 2, { bias: false }));
    const a = make();
    a.forward(
      tensor([
        [1, 2, 3],
        [0, 1, -1],
        [2, 2, 2],
      ]),
    ); // moves running stats
    const path = join(tmp, 'model.safetensors');
    saveModule(path, a, { epoch: '3' });
    const b = make();
    const r = loadModule(path, b);
    assert.deepEqual(r, { missing: [], unexpected: [], metadata: { epoch: '3' } });
    for (const [k, t] of a.stateDict()) assert.deepEqual(values(b.stateDict().get(k)!), values(t), k);
    assert.equal(b.stateDict().get('1.num_batches_tracked')!.item(), 1);
    const other = new Sequential(new Linear(3, 5));
    assert.throws(
      () => loadModule(path, other),
      (e: Error) => e.message.includes(path) && /shape mismatch/.test(e.message),
    );
    const small = new Sequential(new Linear(3, 4));
    assert.throws(() => loadModule(path, small), /unexpected/);
    const lax = loadModule(path, small, { strict: false });
    assert.ok(lax.unexpected.includes('3.weight'));
    // PyTorch can read the module file
    const py = JSON.parse(execFileSync(PY, [SCRIPT, 'read', path], { encoding: 'utf8' }));
    assert.deepEqual(Object.keys(py.tensors).sort(), [...a.stateDict().keys()].sort());
    assert.equal(py.tensors['1.num_batches_tracked'].dtype, 'I64');
    for (const m of [a, b, other, small]) m.dispose();
  }));

test('saveOptimizer / loadOptimizer restore Adam so that training continues identically', () =>
  tidy(() => {
    const p1 = tensor([
      [1, 2],
      [3, 4],
    ]).requireGrad();
    const p2 = tensor([0.5]).requireGrad();
    const opt = new Adam(
      [
        { params: [p1], weightDecay: 0.1 },
        { params: [p2], lrMultiplier: 10 },
      ],
      { lr: 0.01 },
    );
    const grads = (k: number) => [
      tensor([
        [k, -1],
        [0.5, 2],
      ]),
      tensor([Math.sin(k)]),
    ];
    const stepWith = (o: Adam, ps: Tensor[], k: number) =>
      tidy(() => {
        const g = grads(k);
        ps.forEach((p, i) => (p.grad = g[i]!));
        o.step();
      });
    for (let k = 0; k < 3; k++) stepWith(opt, [p1, p2], k);
    const path = join(tmp, 'opt.safetensors');
    saveOptimizer(path, opt, { run: 'x' });
    const q1 = p1.detach().clone().requireGrad();
    const q2 = p2.detach().clone().requireGrad();
    const opt2 = new Adam([{ params: [q1] }, { params: [q2] }], { lr: 1 });
    const meta = loadOptimizer(path, opt2);
    assert.equal(meta.run, 'x');
    assert.equal(opt2.paramGroups[1]!.lrMultiplier, 10);
    assert.equal(opt2.paramGroups[0]!.weightDecay, 0.1);
    for (let k = 3; k < 6; k++) {
      stepWith(opt, [p1, p2], k);
      stepWith(opt2, [q1, q2], k);
    }
    assert.deepEqual(q1.toArray(), p1.toArray());
    assert.deepEqual(q2.toArray(), p2.toArray());
    const modelFile = join(tmp, 'not-opt.safetensors');
    saveSafetensors(modelFile, { w: tensor([1]) });
    assert.throws(() => loadOptimizer(modelFile, opt2), /loadOptimizer: .*not-opt\.safetensors: no 'optimizer' entry/);
    assert.throws(() => saveOptimizer(path, opt, { optimizer: 'x' }), /reserved/);
    opt.dispose();
    opt2.dispose();
  }));
