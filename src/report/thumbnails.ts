// Thumbnails of dataset items as PNG data URIs, so the report's retrieval grid is one self-contained file.
import sharp from 'sharp';
import { decodeImage, type ImageDataset } from '../data/index.js';

export const THUMBNAIL_SIDE = 72;

/** A PNG data URI of item `index`, the longer side scaled to `side` pixels (small images are enlarged). */
export async function thumbnailDataUri(ds: ImageDataset, index: number, side = THUMBNAIL_SIDE): Promise<string> {
  const px = await decodeImage(await ds.load(index));
  const png = await sharp(px.data, { raw: { width: px.width, height: px.height, channels: px.channels } })
    .resize(side, side, { fit: 'inside', kernel: px.width < side / 2 ? 'nearest' : 'lanczos3' })
    .png({ compressionLevel: 9 })
    .toBuffer();
  return `data:image/png;base64,${png.toString('base64')}`;
}

/** Thumbnails of several items (each decoded once). */
export async function thumbnails(ds: ImageDataset, indices: Iterable<number>, side = THUMBNAIL_SIDE): Promise<Map<number, string>> {
  const out = new Map<number, string>();
  for (const i of indices) if (!out.has(i)) out.set(i, await thumbnailDataUri(ds, i, side));
  return out;
}
