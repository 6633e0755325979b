export * from './accelerators.js';
export * from './clock.js';
export * from './errors.js';
export * from './ids.js';
export * from './job-state.js';
export * from './money.js';
export * from './resources.js';
export * from './rng.js';
