// The search service: an HTTP JSON API over a run's model and an index.
export * from './app.js';
export * from './server.js';
export * from './limits.js';
export * from './errors.js';
