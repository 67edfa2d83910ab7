// Shared benchmark utilities: timing, tables, a side-by-side Python worker, process figures and results files.
export * from './timing.js';
export * from './table.js';
export * from './python.js';
export * from './results.js';
