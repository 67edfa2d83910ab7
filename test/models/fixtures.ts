// Paths and readers for the model fixtures written by scripts/fixtures/models_reference.py.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';

/** test/fixtures/models in the source tree (tests run from dist/test/models). */
export const FIXTURES = fileURLToPath(new URL('../../../test/fixtures/models/', import.meta.url));

export function fixture(name: string): string {
  return join(FIXTURES, name);
}

export interface NamesFixture {
  produced_by: string;
  parameters: [string, number[]][];
  buffers: [string, number[]][];
  parameter_count: number;
  feature_dim: number;
}

export function namesFixture(name: 'resnet50_names.json' | 'bninception_names.json'): NamesFixture {
  return JSON.parse(readFileSync(fixture(name), 'utf8')) as NamesFixture;
}
