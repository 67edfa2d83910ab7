// Shared benchmark utilities: timing, tables, a side-by-side Python worker.
export * from './timing.js';
export * from './table.js';
export * from './python.js';
