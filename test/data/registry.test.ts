// The dataset registry is the one list of dataset names: the config's enum comes from it, each entry's metadata
// matches what its loader demands, and loading goes through it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { DATASET_NAMES, datasetInfo, loadDatasetSplits } from '../../src/data/index.js';
import { DatasetConfig } from '../../src/training/config.js';
import { tempDir } from '../helpers/tmp.js';

test('the config accepts exactly the registry’s dataset names', async () => {
  assert.deepEqual([...DatasetConfig.shape.name.options], [...DATASET_NAMES]);
  assert.deepEqual([...DATASET_NAMES].sort(), ['cars', 'csv', 'cub', 'folder', 'inshop', 'mnist', 'omniglot', 'sop']);
  assert.throws(() => datasetInfo('imagenet'), /dataset\.name: unknown dataset 'imagenet' \(known: mnist, omniglot, folder, csv/);
  await assert.rejects(loadDatasetSplits({ name: 'imagenet', onBadItem: 'fail' }), /unknown dataset 'imagenet'/);
});

test('each entry’s metadata is what its loader demands: a root, a manifest, or nothing', async () => {
  const missing = join(tempDir('registry'), 'nowhere');
  for (const name of DATASET_NAMES) {
    const info = datasetInfo(name);
    assert.ok(info.description.length > 10, `${name} has a description`);
    if (info.root === 'required') {
      await assert.rejects(loadDatasetSplits({ name, onBadItem: 'fail' }), new RegExp(`dataset\\.root is required for dataset '${name}'`), name);
      await assert.rejects(loadDatasetSplits({ name, root: missing, onBadItem: 'fail' }), /dataset\.root: folder not found: .*nowhere/, name);
    }
    if (info.csv) await assert.rejects(loadDatasetSplits({ name, onBadItem: 'fail' }), /dataset\.csv is required for dataset 'csv'/, name);
  }
  assert.deepEqual(
    DATASET_NAMES.filter((n) => datasetInfo(n).root === 'required'),
    ['folder', 'cub', 'cars', 'sop', 'inshop'],
  );
  assert.equal(datasetInfo('inshop').test, 'query-gallery');
  await assert.rejects(loadDatasetSplits({ name: 'omniglot', root: missing, onBadItem: 'fail' }), /dataset\.root: no images_background\.zip in .*nowhere/);
});

test('loading by name: MNIST digits 0-4 train, 5-9 test', async () => {
  const { trainAll, test: t, validation } = await loadDatasetSplits({ name: 'mnist', onBadItem: 'fail' });
  assert.deepEqual(trainAll.classNames, ['0', '1', '2', '3', '4']);
  assert.deepEqual(t.query.classNames, ['5', '6', '7', '8', '9']);
  assert.equal(t.gallery, undefined);
  assert.equal(validation, undefined);
});
