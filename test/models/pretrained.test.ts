// loadPretrained: error messages for missing / mismatched / unexpected tensors name the file and the tensors,
// non-strict loading, ignored names, 'module.' prefixes and [1, C] BN tensors of Caffe ports.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { tidy, zeros, equal, type Tensor } from '../../src/engine/index.js';
import { loadSafetensors, saveSafetensors } from '../../src/engine/serialization/index.js';
import { ResNet50, ResNet50Backbone, BNInception, SmallCnn, loadPretrained } from '../../src/models/index.js';
import { fixture } from './fixtures.js';
import { tempDir } from '../helpers/tmp.js';

const R50 = fixture('ref_resnet50_w8.safetensors');
const quiet = { log: (): void => {} };

function withTmp(fn: (dir: string) => void): void {
  const dir = tempDir('models');
  try {
    fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The fixture's tensors, edited by `edit`, written to dir/name. */
function edited(dir: string, name: string, src: string, edit: (m: Map<string, Tensor>) => void): string {
  const f = loadSafetensors(src);
  const m = new Map(f);
  edit(m);
  const p = join(dir, name);
  saveSafetensors(p, m);
  f.dispose();
  return p;
}

test('missing tensors: strict error names the file, every tensor and its shape; nothing is copied', () =>
  withTmp((dir) =>
    tidy(() => {
      const p = edited(dir, 'missing.safetensors', R50, (m) => {
        m.delete('layer2.0.conv1.weight');
        m.delete('bn1.running_var');
      });
      const model = new ResNet50({ widthMultiplier: 0.125 });
      const before = model.backbone.conv1.weight.clone();
      assert.throws(
        () => loadPretrained(model, p, { mapping: 'torchvision', ...quiet }),
        (e: Error) => {
          assert.ok(e.message.includes(p), e.message);
          assert.match(e.message, /mapping 'torchvision'/);
          assert.match(e.message, /2 model tensor\(s\) missing from the file/);
          assert.match(e.message, /backbone\.bn1\.running_var \[8\]/);
          assert.match(e.message, /backbone\.layer2\.0\.conv1\.weight \[16, 32, 1, 1\]/);
          return true;
        },
      );
      assert.ok(equal(model.backbone.conv1.weight, before), 'a failed load copies nothing');
      // non-strict: loads the rest and reports the two
      const notes: string[] = [];
      const rep = loadPretrained(model, p, { mapping: 'torchvision', strict: false, log: (l) => notes.push(l) });
      assert.deepEqual(rep.missing.sort(), ['backbone.bn1.running_var', 'backbone.layer2.0.conv1.weight']);
      assert.ok(!equal(model.backbone.conv1.weight, before));
      assert.ok(
        notes.some((n) => n.includes('2 model tensor(s) not in the file kept their values') && n.includes('backbone.bn1.running_var')),
        notes.join('\n'),
      );
    }),
  ));

test('shape mismatches: always an error listing tensor, model shape and file shape', () =>
  tidy(() => {
    const wide = new ResNet50({ widthMultiplier: 0.25 });
    for (const strict of [true, false]) {
      assert.throws(
        () => loadPretrained(wide, R50, { mapping: 'torchvision', strict, ...quiet }),
        (e: Error) => {
          assert.ok(e.message.includes(R50), e.message);
          assert.match(e.message, /shape mismatch/);
          assert.ok(e.message.includes('backbone.conv1.weight (file: conv1.weight): model [16, 3, 7, 7], file [8, 3, 7, 7]'), e.message);
          assert.ok(e.message.includes('backbone.layer4.2.bn3.running_mean (file: layer4.2.bn3.running_mean): model [512], file [256]'), e.message);
          return true;
        },
      );
    }
  }));

test('unexpected tensors: strict error, or skipped with a note; fc.* is ignored, not unexpected', () =>
  withTmp((dir) =>
    tidy(() => {
      const p = edited(dir, 'extra.safetensors', R50, (m) => {
        m.set('layer9.weight', zeros([2]));
      });
      const model = new ResNet50({ widthMultiplier: 0.125 });
      assert.throws(
        () => loadPretrained(model, p, { mapping: 'torchvision', ...quiet }),
        /1 file tensor\(s\) with no model tensor of that name:\s+layer9\.weight \(-> backbone\.layer9\.weight\)/,
      );
      const rep = loadPretrained(model, p, { mapping: 'torchvision', strict: false, ...quiet });
      assert.deepEqual(rep.unexpected, ['layer9.weight (-> backbone.layer9.weight)']);
      assert.deepEqual(rep.ignored, ['fc.weight', 'fc.bias']);
      // a bare backbone takes the torchvision names as they are
      const bare = new ResNet50Backbone({ widthMultiplier: 0.125 });
      const bareRep = loadPretrained(bare, R50, { mapping: 'torchvision', ...quiet });
      assert.equal(bareRep.loaded.length, bare.stateDict().size);
      assert.ok(bareRep.loaded.includes('layer3.5.bn3.running_mean'));
      // identity mapping on a torchvision file: everything is unexpected and the model's tensors missing
      assert.throws(
        () => loadPretrained(model, R50, quiet),
        (e: Error) => /missing from the file/.test(e.message) && /conv1\.weight/.test(e.message) && /mapping 'identity'/.test(e.message),
      );
    }),
  ));

test("bninception-caffe mapping: 'module.' prefix and [1, C] BatchNorm tensors of Caffe ports", () =>
  withTmp((dir) =>
    tidy(() => {
      const src = fixture('ref_bninception_w8.safetensors');
      const p = edited(dir, 'caffe.safetensors', src, (m) => {
        for (const [k, v] of [...m]) {
          m.delete(k);
          m.set(`module.${k}`, k.includes('_bn.') && v.rank === 1 ? v.reshape([1, v.shape[0]!]) : v);
        }
      });
      const model = new BNInception({ widthMultiplier: 0.125 });
      const rep = loadPretrained(model, p, { mapping: 'bninception-caffe', ...quiet });
      assert.deepEqual(rep.ignored, ['module.last_linear.weight', 'module.last_linear.bias']);
      const ref = loadSafetensors(src);
      assert.ok(equal(model.backbone.stateDict().get('inception_4a_1x1_bn.running_var')!, ref.get('inception_4a_1x1_bn.running_var')!));
      assert.ok(equal(model.backbone.stateDict().get('conv1_7x7_s2.weight')!, ref.get('conv1_7x7_s2.weight')!));
      // the same [1, C] shapes are a mismatch for the identity mapping
      assert.throws(
        () => loadPretrained(model, p, { mapping: (n) => n.replace(/^module\./, 'backbone.'), scope: 'backbone.', ...quiet }),
        /backbone\.conv1_7x7_s2_bn\.weight \(file: module\.conv1_7x7_s2_bn\.weight\): model \[8\], file \[1, 8\]/,
      );
    }),
  ));

test('bad arguments: unknown mapping, unreadable file, two names for one tensor', () =>
  withTmp((dir) =>
    tidy(() => {
      const m = new SmallCnn({ channels: [4], embeddingDim: 2 });
      assert.throws(() => loadPretrained(m, R50, { mapping: 'keras' as never }), /unknown mapping 'keras'/);
      assert.throws(() => loadPretrained(m, join(dir, 'nope.safetensors')), /nope\.safetensors/);
      const p = join(dir, 'dup.safetensors');
      saveSafetensors(p, { a: zeros([2, 4]), b: zeros([2, 4]) });
      assert.throws(() => loadPretrained(m, p, { mapping: () => 'head.linear.weight', ...quiet }), /two tensors map to 'head\.linear\.weight'/);
    }),
  ));

test('identity mapping: a backbone-only file fills the backbone and leaves the fresh head alone; a partial one names what is missing', () =>
  withTmp((dir) =>
    tidy(() => {
      const src = new SmallCnn({ channels: [4, 8], embeddingDim: 6 });
      const backboneOnly = new Map([...src.stateDict()].filter(([k]) => k.startsWith('backbone.')));
      const p = join(dir, 'backbone.safetensors');
      saveSafetensors(p, backboneOnly);
      const model = new SmallCnn({ channels: [4, 8], embeddingDim: 6 });
      const head = model.head.linear.weight.clone();
      const rep = loadPretrained(model, p, quiet);
      assert.equal(rep.loaded.length, backboneOnly.size);
      assert.ok(rep.loaded.every((n) => n.startsWith('backbone.')));
      assert.ok(equal(model.backbone.stateDict().get('0.weight')!, src.backbone.stateDict().get('0.weight')!));
      assert.ok(equal(model.head.linear.weight, head), 'the head keeps its own initialisation');
      // a backbone file missing one tensor is still an error naming it
      const q = join(dir, 'partial.safetensors');
      saveSafetensors(q, new Map([...backboneOnly].filter(([k]) => k !== 'backbone.4.weight')));
      assert.throws(() => loadPretrained(model, q, quiet), /1 model tensor\(s\) missing from the file:\n\s+backbone\.4\.weight/);
    }),
  ));
