// Test utilities for library users and contributors: finite-difference gradient checking.
export { gradcheck, GradcheckError, seededRandom, type GradcheckOptions, type GradcheckMismatch } from './gradcheck.js';
