/** The data plane's pure logic: chunking, manifests, dataset paths, replica rules, eviction, rate limits. */
export * from './chunk-plan.js';
export * from './dataset-path.js';
export * from './manifest.js';
export * from './replica-rules.js';
export * from './eviction.js';
export * from './rate-limit.js';
export * from './job-outputs.js';
