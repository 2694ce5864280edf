// The entry of dist/index.cjs (test/build/tsup.config.mjs): the public API, and the modules the
// package's other entries take from it. Types come from src/index.ts.
export * from './index.js';
export { coreModules as __wattprintCore } from './core-modules.js';
