// Set by the package build (test/build/tsup.config.mjs).
declare const __WATTPRINT_DIST__: boolean;

/**
 * `require` for the package's own files and Node's built-ins. In the build (CommonJS, every chunk
 * in dist/) it is the module's own, so `import 'wattprint'` does not load node:module's public API
 * (~0.4 ms in a fresh process; a static import of it would, even unused); from the ES module
 * sources (the tests and their bundles, Node ≥ 20.16) one made for src/.
 */
export const requireHere: NodeJS.Require =
  typeof __WATTPRINT_DIST__ !== 'undefined' ? require : process.getBuiltinModule('node:module').createRequire(import.meta.url);
