// Calibrate and match: a distance threshold for a target precision (or the best F1) on the validation
// split; queries are then answered with the matched label or "unknown".
export * from './threshold.js';
export * from './calibration.js';
export * from './calibrate.js';
export * from './plot.js';
