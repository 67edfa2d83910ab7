// The HTTP JSON API over a run's model and an index (Fastify):
//   GET    /health           liveness and item count
//   GET    /info             index, model, execution (device, precision), calibration and limits
//   POST   /embed            image bytes -> {embedding} (an indexed image with the same pixels: its stored vector)
//   POST   /search           {vector, k?, label?} as JSON, or image bytes with ?k=&label= -> {results, match?}
//   POST   /items            {id, vector, label?, path?} as JSON, or image bytes with ?id=&label=&path= -> 201
//   DELETE /items/:id        removes an item
// Every error is a 4xx/5xx with {error: {code, message}} naming the problem. Changes to the index are saved
// (atomically) shortly after they happen, in batches, and on close.
import Fastify, { type FastifyInstance, type FastifyRequest } from 'fastify';
import sharp, { type Metadata } from 'sharp';
import { z } from 'zod';
import { queryEmbedding, type IndexItem, type RunEmbedder, type VectorIndex } from '../index/index.js';
import { match, type Calibration } from '../calibrate/index.js';
import { HttpError, badRequest, fromFastify } from './errors.js';
import { DEFAULT_LIMITS, type ServeLimits } from './limits.js';
import { WorkQueue } from './work-queue.js';

export interface ServeOptions {
  embedder: RunEmbedder;
  index: VectorIndex;
  calibration?: Calibration;
  limits?: Partial<ServeLimits>;
  /** Delay before a change to the index is saved (default 200 ms; changes in that window share one save). */
  saveDelayMs?: number;
  logger?: boolean;
}

const ROUTES = 'GET /health, GET /info, POST /embed, POST /search, POST /items, DELETE /items/:id';

function describeIssues(e: z.ZodError): string {
  return e.issues.map((i) => (i.path.length ? `${i.path.join('.')}: ${i.message}` : i.message)).join('; ');
}

/** What the route handlers share: the options, the limits, the request schemas and the helpers over the index. */
interface ServerContext {
  o: ServeOptions;
  limits: ServeLimits;
  index: VectorIndex;
  schemas: RequestSchemas;
  /** The image body's vector (an indexed image's stored one, see queryEmbedding) and pixel digest. */
  embedBody(req: FastifyRequest): Promise<{ vector: Float32Array; digest: string }>;
  /** Search results, with the calibrated match when the server has a calibration. */
  answer(q: Float32Array, k: number, label?: string): object;
  /** Saves the index shortly after a change (changes in the delay share one save). */
  scheduleSave(): void;
}

export function buildServer(o: ServeOptions): FastifyInstance & { flush(): void } {
  const limits: ServeLimits = { ...DEFAULT_LIMITS, ...o.limits };
  const { index } = o;
  const queue = new WorkQueue(limits.concurrency, limits.queue);
  const app = createApp(limits, o.logger ?? false);
  const saver = indexSaver(index, o.saveDelayMs ?? 200);
  const ctx: ServerContext = {
    o,
    limits,
    index,
    schemas: requestSchemas(index.dim, limits),
    embedBody: (req) => embedImageBody(o, limits, queue, req),
    answer: (q, k, label) => {
      const results = index.search(q, { k, label });
      return { results, ...(o.calibration ? { match: match(results[0], o.calibration.threshold) } : {}) };
    },
    scheduleSave: saver.scheduleSave,
  };
  registerInfoRoutes(app, ctx, queue);
  registerQueryRoutes(app, ctx);
  registerItemRoutes(app, ctx);
  registerErrorHandlers(app);
  app.addHook('onClose', async () => saver.flush());
  return Object.assign(app, { flush: saver.flush });
}

/** Fastify with the limits, taking JSON or image bytes only. */
function createApp(limits: ServeLimits, logger: boolean): FastifyInstance {
  const app = Fastify({
    logger,
    bodyLimit: limits.bodyBytes,
    requestTimeout: limits.requestTimeoutMs,
    return503OnClosing: true,
    forceCloseConnections: 'idle',
  });
  app.removeContentTypeParser('text/plain'); // JSON or image bytes only
  app.addContentTypeParser(/^(image\/[\w.+-]+|application\/octet-stream)$/, { parseAs: 'buffer', bodyLimit: limits.bodyBytes }, (_req, body, done) =>
    done(null, body),
  );
  return app;
}

type RequestSchemas = ReturnType<typeof requestSchemas>;

/** The JSON bodies and query strings the routes accept, for vectors of `dim` values. */
function requestSchemas(dim: number, limits: ServeLimits) {
  const vector = z
    .array(z.number().refine(Number.isFinite, 'must be a finite number'), { error: 'must be an array of numbers' })
    .length(dim, { error: `must have ${dim} values (the index holds ${dim}-d vectors)` });
  const kSchema = z.coerce
    .number({ error: 'must be a number' })
    .int({ error: 'must be an integer' })
    .min(1, { error: `must be in 1..${limits.maxK}` })
    .max(limits.maxK, { error: `must be in 1..${limits.maxK}` });
  const searchBody = z.object({ vector, k: kSchema.default(5), label: z.string().optional() }).strict();
  const addBody = z.object({ id: z.string().min(1), vector, label: z.string().nullable().optional(), path: z.string().nullable().optional() }).strict();
  const imageQuery = z.object({ k: kSchema.default(5), label: z.string().optional(), id: z.string().min(1).optional(), path: z.string().optional() }).strict();
  return { searchBody, addBody, imageQuery };
}

function parse<T>(schema: z.ZodType<T>, value: unknown, what: string): T {
  const r = schema.safeParse(value);
  if (!r.success) throw badRequest('invalid_field', `${what}: ${describeIssues(r.error)}`);
  return r.data;
}

const isImage = (req: FastifyRequest) => Buffer.isBuffer(req.body);

/** The image body's vector (an indexed image's stored one, see queryEmbedding) and pixel digest. */
async function embedImageBody(o: ServeOptions, limits: ServeLimits, queue: WorkQueue, req: FastifyRequest): Promise<{ vector: Float32Array; digest: string }> {
  const bytes = req.body as Buffer;
  if (bytes.length === 0) throw badRequest('empty_body', 'request body is empty: send the image bytes');
  let meta: Metadata;
  try {
    meta = await sharp(bytes).metadata();
  } catch (e) {
    throw badRequest('bad_image', `request body is not a decodable image (${(e as Error).message})`);
  }
  const w = meta.width ?? 0;
  const h = meta.height ?? 0;
  if (!w || !h) throw badRequest('bad_image', 'request body is an image without dimensions');
  if (w * h > limits.imagePixels)
    throw new HttpError(413, 'image_too_large', `image is ${w}x${h} (${w * h} pixels), above the limit of ${limits.imagePixels} pixels`);
  const deadline = Date.now() + limits.requestTimeoutMs;
  return queue.run(async () => {
    try {
      return await queryEmbedding(o.embedder, o.index, { kind: 'encoded', bytes, where: 'request body' });
    } catch (e) {
      throw badRequest('bad_image', `cannot use the image: ${(e as Error).message}`);
    }
  }, deadline);
}

/** Batched, delayed saves of a changed index; `flush` saves now. */
function indexSaver(index: VectorIndex, delayMs: number): { flush(): void; scheduleSave(): void } {
  let saveTimer: NodeJS.Timeout | null = null;
  const flush = () => {
    if (saveTimer) clearTimeout(saveTimer);
    saveTimer = null;
    if (index.dirty) index.save();
  };
  const scheduleSave = () => {
    if (!saveTimer) saveTimer = setTimeout(flush, delayMs);
  };
  return { flush, scheduleSave };
}

/** GET /health and GET /info. */
function registerInfoRoutes(app: FastifyInstance, { o, limits, index }: ServerContext, queue: WorkQueue): void {
  app.get('/health', async () => ({ status: 'ok', items: index.size, pending: queue.pending }));

  app.get('/info', async () => ({
    index: index.info(),
    model: o.embedder.config.model,
    // Where and how this server computes, which --device and --precision may have changed from the run's config.
    execution: { device: o.embedder.model.device, precision: o.embedder.model.precision },
    input: { size: o.embedder.shape.slice(1), channels: o.embedder.shape[0] },
    calibration: o.calibration
      ? { threshold: o.calibration.threshold, goal: o.calibration.goal, precision: o.calibration.precision, recall: o.calibration.recall }
      : null,
    limits,
  }));
}

/** POST /embed and POST /search. */
function registerQueryRoutes(app: FastifyInstance, { schemas, embedBody, answer }: ServerContext): void {
  app.post('/embed', async (req) => {
    if (!isImage(req)) throw new HttpError(415, 'unsupported_media_type', 'POST /embed takes image bytes (Content-Type image/* or application/octet-stream)');
    const v = (await embedBody(req)).vector;
    return { dim: v.length, embedding: Array.from(v) };
  });

  app.post('/search', async (req) => {
    if (isImage(req)) {
      const q = parse(schemas.imageQuery.omit({ id: true, path: true }), req.query, 'query string');
      return answer((await embedBody(req)).vector, q.k, q.label);
    }
    const b = parse(schemas.searchBody, req.body, 'body');
    return answer(Float32Array.from(b.vector), b.k, b.label);
  });
}

/** POST /items and DELETE /items/:id. */
function registerItemRoutes(app: FastifyInstance, { index, schemas, embedBody, scheduleSave }: ServerContext): void {
  app.post('/items', async (req, reply) => {
    let item: IndexItem;
    let v: Float32Array;
    if (isImage(req)) {
      const q = parse(schemas.imageQuery.omit({ k: true }), req.query, 'query string');
      if (!q.id) throw badRequest('invalid_field', 'query string: id is required (?id=...)');
      item = { id: q.id, label: q.label ?? null, path: q.path ?? null };
      if (index.has(item.id))
        throw new HttpError(409, 'duplicate_id', `id '${item.id}' is already in the index (DELETE /items/${encodeURIComponent(item.id)} first)`);
      const e = await embedBody(req);
      v = e.vector;
      item.digest = e.digest;
    } else {
      const b = parse(schemas.addBody, req.body, 'body');
      item = { id: b.id, label: b.label ?? null, path: b.path ?? null };
      v = Float32Array.from(b.vector);
    }
    if (index.has(item.id))
      throw new HttpError(409, 'duplicate_id', `id '${item.id}' is already in the index (DELETE /items/${encodeURIComponent(item.id)} first)`);
    index.add([item], v);
    scheduleSave();
    reply.code(201);
    return { added: item.id, size: index.size };
  });

  app.delete('/items/:id', async (req) => {
    const { id } = req.params as { id: string };
    if (!index.has(id)) throw new HttpError(404, 'unknown_id', `no item with id '${id}'`);
    index.remove([id]);
    scheduleSave();
    return { removed: id, size: index.size };
  });
}

/** Every error, and an unknown route, as {error: {code, message}}. */
function registerErrorHandlers(app: FastifyInstance): void {
  app.setNotFoundHandler((req, reply) => {
    void reply.status(404).send({ error: { code: 'not_found', message: `no route ${req.method} ${req.url.split('?')[0]} (routes: ${ROUTES})` } });
  });

  app.setErrorHandler((err, req, reply) => {
    const h = err instanceof HttpError ? err : fromFastify(err as { statusCode?: number; code?: string; message: string }, req.headers['content-type']);
    if (h.status >= 500 && !(err instanceof HttpError)) app.log.error(err);
    void reply.status(h.status).send({ error: { code: h.code, message: h.message } });
  });
}
