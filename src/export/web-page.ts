// The static demo page: drop (or pick) an image, and the page embeds it with onnxruntime-web (wasm, one
// thread: no cross-origin isolation needed) and lists its nearest gallery images by exact Euclidean distance.
// Preprocessing is the CLI's test-time path: shorter side to resizeTo, centre crop, 0-255 RGB (or luminance
// for one channel); normalisation is inside the ONNX graph.

export const INDEX_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>ccp-dml: nearest images</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
  body { font: 15px/1.4 system-ui, sans-serif; margin: 2rem auto; max-width: 60rem; color: #222; }
  #drop { border: 2px dashed #888; border-radius: 8px; padding: 1.5rem; text-align: center; }
  #drop.over { background: #eef5ff; border-color: #36c; }
  #query img, #neighbours img { image-rendering: pixelated; width: 96px; height: 96px; object-fit: contain; background: #f4f4f4; }
  #neighbours { display: flex; flex-wrap: wrap; gap: 1rem; list-style: none; padding: 0; }
  #neighbours li { width: 120px; font-size: 13px; }
  #status { color: #555; }
</style>
</head>
<body>
<h1>Nearest gallery images</h1>
<p>Model <code id="model"></code>, <span id="count"></span> gallery images. Everything runs in this page (onnxruntime-web).</p>
<div id="drop">Drop an image here, or <input type="file" id="file" accept="image/*"></div>
<p id="status">loading the model...</p>
<div id="query"></div>
<ol id="neighbours"></ol>
<script src="ort/ort.wasm.min.js"></script>
<script src="demo.js"></script>
</body>
</html>
`;

export const DEMO_JS = `'use strict';
(async () => {
  const status = document.getElementById('status');
  const say = (s) => (status.textContent = s);
  try {
    ort.env.wasm.numThreads = 1;
    ort.env.wasm.wasmPaths = new URL('ort/', location.href).href;
    const [meta, vectors, session] = await Promise.all([
      fetch('gallery.json').then((r) => r.json()),
      fetch('gallery.f32').then((r) => r.arrayBuffer()).then((b) => new Float32Array(b)),
      ort.InferenceSession.create('model.onnx', { executionProviders: ['wasm'] }),
    ]);
    const pre = meta.preprocessing;
    const dim = meta.dim;
    document.getElementById('model').textContent = meta.model.name + ' ' + meta.model.hash.slice(0, 12);
    document.getElementById('count').textContent = String(meta.items.length);

    async function pixelsOf(blob) {
      const bmp = await createImageBitmap(blob, { colorSpaceConversion: 'none', premultiplyAlpha: 'none' });
      const [H, W] = pre.size;
      const short = Math.min(bmp.width, bmp.height);
      const rw = bmp.width === short ? pre.resizeTo : Math.floor((pre.resizeTo * bmp.width) / short);
      const rh = bmp.height === short ? pre.resizeTo : Math.floor((pre.resizeTo * bmp.height) / short);
      const canvas = document.createElement('canvas');
      canvas.width = rw;
      canvas.height = rh;
      const ctx = canvas.getContext('2d', { willReadFrequently: true });
      ctx.imageSmoothingQuality = 'high';
      ctx.drawImage(bmp, 0, 0, rw, rh);
      const rgba = ctx.getImageData(Math.floor((rw - W) / 2), Math.floor((rh - H) / 2), W, H).data;
      const n = H * W;
      const out = new Float32Array(pre.channels * n);
      for (let i = 0; i < n; i++) {
        const r = rgba[4 * i], g = rgba[4 * i + 1], b = rgba[4 * i + 2];
        if (pre.channels === 3) { out[i] = r; out[n + i] = g; out[2 * n + i] = b; }
        else out[i] = r === g && g === b ? r : Math.round(0.2126 * r + 0.7152 * g + 0.0722 * b);
      }
      return out;
    }

    async function search(blob) {
      say('embedding...');
      const px = await pixelsOf(blob);
      const input = new ort.Tensor('float32', px, [1, pre.channels, pre.size[0], pre.size[1]]);
      const out = await session.run({ [session.inputNames[0]]: input });
      const q = out[session.outputNames[0]].data;
      const hits = [];
      for (let r = 0; r < meta.items.length; r++) {
        let s = 0;
        for (let j = 0; j < dim; j++) { const d = q[j] - vectors[r * dim + j]; s += d * d; }
        hits.push({ r, distance: Math.sqrt(s) });
      }
      hits.sort((a, b) => a.distance - b.distance || a.r - b.r);
      const list = document.getElementById('neighbours');
      list.replaceChildren();
      for (const h of hits.slice(0, meta.k)) {
        const it = meta.items[h.r];
        const li = document.createElement('li');
        li.dataset.id = it.id;
        li.dataset.distance = String(h.distance);
        const img = document.createElement('img');
        img.src = it.image;
        img.alt = it.id;
        const cap = document.createElement('div');
        cap.textContent = h.distance.toFixed(4) + (it.label !== null ? ' [' + it.label + ']' : '') + ' ' + it.id;
        li.append(img, cap);
        list.append(li);
      }
      const shown = document.createElement('img');
      shown.src = URL.createObjectURL(blob);
      document.getElementById('query').replaceChildren(shown);
      say('done');
    }

    const fail = (e) => say('error: ' + (e && e.message ? e.message : String(e)));
    document.getElementById('file').addEventListener('change', (e) => { const f = e.target.files[0]; if (f) search(f).catch(fail); });
    const drop = document.getElementById('drop');
    drop.addEventListener('dragover', (e) => { e.preventDefault(); drop.classList.add('over'); });
    drop.addEventListener('dragleave', () => drop.classList.remove('over'));
    drop.addEventListener('drop', (e) => { e.preventDefault(); drop.classList.remove('over'); const f = e.dataTransfer.files[0]; if (f) search(f).catch(fail); });
    say('ready');
  } catch (e) {
    say('error: ' + (e && e.message ? e.message : String(e)));
  }
})();
`;
