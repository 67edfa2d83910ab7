// Omniglot without ../shared: generated zips in the official layout (images_<set>.zip holding
// images_<set>/<Alphabet>/characterNN/<id>_<drawer>.png, 105 x 105 1-bit-looking PNGs), so the loaders, the
// omniglot dataset option and the study scripts run in a fresh clone. The real zips, when beside the repo, are
// used by the tests that check real-data facts (class and image counts).
import { existsSync } from 'node:fs';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { writeZip } from './zip.js';
import { tempDir } from './tmp.js';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
/** The real zips' folder (beside the repository, as in CI). */
export const sharedOmniglotDir = resolve(repoRoot, '../shared/data/omniglot');

/** False when the real Omniglot zips are present; otherwise the reason a real-data test skips. */
export function missingSharedOmniglot(): string | false {
  const zip = join(sharedOmniglotDir, 'images_background.zip');
  return existsSync(zip) ? false : `needs the real Omniglot zips: ${zip} not found (clone the repository beside ../shared)`;
}

export interface OmniglotFixtureShape {
  /** Alphabets x characters per alphabet x drawers per character, per set. */
  background: [number, number, number];
  evaluation: [number, number, number];
}

export const DEFAULT_OMNIGLOT_FIXTURE: OmniglotFixtureShape = { background: [4, 4, 5], evaluation: [3, 4, 5] };

/** A character's drawing: a few strokes that depend on the class, jittered per drawer. */
async function glyph(cls: number, drawer: number): Promise<Buffer> {
  const s = 105;
  const px = new Uint8Array(s * s).fill(255);
  const bar = (x0: number, y0: number, w: number, h: number) => {
    for (let y = Math.max(0, y0); y < Math.min(s, y0 + h); y++) for (let x = Math.max(0, x0); x < Math.min(s, x0 + w); x++) px[y * s + x] = 0;
  };
  const j = (drawer % 3) - 1;
  bar(10 + ((cls * 17) % 60) + j, 10, 8, 80);
  bar(10, 15 + ((cls * 29) % 70) + j, 85, 7);
  if (cls % 2) bar(50 + j, 50, 30, 30);
  return sharp(Buffer.from(px), { raw: { width: s, height: s, channels: 1 } })
    .png()
    .toBuffer();
}

async function writeSet(dir: string, set: string, [alphabets, chars, drawers]: [number, number, number], classOffset: number): Promise<void> {
  const top = `images_${set}`;
  const entries: { name: string; data?: Uint8Array }[] = [{ name: `${top}/` }];
  let id = 1;
  for (let a = 0; a < alphabets; a++) {
    const alphabet = `${set === 'evaluation' ? 'Eval' : 'Back'}_Alphabet_${String.fromCharCode(65 + a)}`;
    entries.push({ name: `${top}/${alphabet}/` });
    for (let c = 1; c <= chars; c++) {
      const folder = `${top}/${alphabet}/character${String(c).padStart(2, '0')}`;
      entries.push({ name: `${folder}/` });
      for (let d = 1; d <= drawers; d++) {
        const cls = classOffset + a * chars + c;
        entries.push({ name: `${folder}/${String(id).padStart(4, '0')}_${String(d).padStart(2, '0')}.png`, data: await glyph(cls, d) });
      }
      id++;
    }
  }
  writeZip(join(dir, `images_${set}.zip`), entries);
}

const made = new Map<string, string>();

/** A folder with generated images_background.zip and images_evaluation.zip (made once per process and shape). */
export async function omniglotFixture(shape: OmniglotFixtureShape = DEFAULT_OMNIGLOT_FIXTURE): Promise<string> {
  const key = JSON.stringify(shape);
  const have = made.get(key);
  if (have) return have;
  const dir = tempDir('omniglot');
  await writeSet(dir, 'background', shape.background, 0);
  await writeSet(dir, 'evaluation', shape.evaluation, shape.background[0] * shape.background[1]);
  made.set(key, dir);
  return dir;
}
