// The package build (`npm run build`, `npx tsup --config test/build/tsup.config.mjs`), in two
// passes run side by side:
// - dist/index.cjs: src/package-index.ts in one file, no chunks: `import 'wattprint'` reads,
//   compiles and links one module (the split build read 17 files and paid a module's loading, its
//   exports object and its cross-chunk getters for each: ~3 ms and ~170 KB of heap more);
// - every other entry (testing, the exporters, llm, the CLI, the lazy-* groups that load on first
//   use) with the chunks they share. Where their code imports a module that dist/index.cjs holds,
//   it gets that module from index.cjs (its `__wattprintCore` export, src/core-modules.ts), so each
//   class and each module's state exists once in a process and instanceof holds across entries.
//   A module of index.cjs missing from src/core-modules.ts fails the build.
// test/build/finish-dist.mjs runs once both passes are written.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildSync } from 'esbuild';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const CORE_ENTRY = 'src/package-index.ts';

const common = {
  format: ['cjs'],
  noExternal: ['eventemitter3'],
  shims: true,
  target: 'node20',
  clean: false,
  sourcemap: false,
  treeshake: true,
  minifyWhitespace: true,
  minifySyntax: true,
  define: { __WATTPRINT_DIST__: 'true' },
};

/** The source files dist/index.cjs bundles, as paths relative to the repository. */
function coreFiles() {
  const r = buildSync({
    entryPoints: [CORE_ENTRY],
    absWorkingDir: root,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    write: false,
    metafile: true,
    packages: 'external',
    define: common.define,
    logLevel: 'silent',
  });
  return new Set(Object.keys(r.metafile.inputs));
}

/**
 * The modules src/core-modules.ts hands to the other entries (its `'src/…': ns` keys), each checked
 * against the file its `import * as ns` names: a key naming another module would hand one module's
 * code to the importers of another.
 */
function sharedCore() {
  const text = readFileSync(join(root, 'src', 'core-modules.ts'), 'utf8');
  const imports = new Map([...text.matchAll(/^import \* as (\w+) from '\.\/([^']+)\.js';$/gm)].map((m) => [m[1], `src/${m[2]}.ts`]));
  const keys = [...text.matchAll(/^\s*'(src\/[^']+\.ts)': (\w+),$/gm)];
  if (keys.length === 0) throw new Error('test/build/tsup.config.mjs: no `\'src/…\': ns,` line in src/core-modules.ts');
  for (const [, key, ns] of keys) {
    if (imports.get(ns) !== key) throw new Error(`src/core-modules.ts: '${key}' maps to ${ns}, which imports ${imports.get(ns) ?? 'nothing'}`);
  }
  return new Set(keys.map((m) => m[1]));
}

/** esbuild plugin of the second pass: imports of index.cjs's modules become reads of its `__wattprintCore`. */
function fromIndex() {
  return {
    name: 'wattprint-core-from-index',
    async setup(b) {
      const core = coreFiles();
      const shared = sharedCore();
      b.onResolve({ filter: /^\.\.?\// }, async (args) => {
        if (args.pluginData?.inner || args.namespace !== 'file') return undefined;
        const r = await b.resolve(args.path, { kind: args.kind, resolveDir: args.resolveDir, importer: args.importer, pluginData: { inner: true } });
        if (r.errors.length > 0) return { errors: r.errors };
        const file = relative(root, r.path);
        if (!core.has(file)) return { path: r.path };
        if (!shared.has(file)) {
          return { errors: [{ text: `${file} is bundled into dist/index.cjs and imported by ${relative(root, args.importer)}: list it in src/core-modules.ts` }] };
        }
        return { path: file, namespace: 'wattprint-core' };
      });
      b.onLoad({ filter: /.*/, namespace: 'wattprint-core' }, (args) => ({
        contents: `module.exports = require('./index.cjs').__wattprintCore[${JSON.stringify(args.path)}];`,
        loader: 'js',
      }));
      b.onResolve({ filter: /^\.\/index\.cjs$/, namespace: 'wattprint-core' }, () => ({ path: './index.cjs', external: true }));
    },
  };
}

// finish-dist needs both passes' files: it runs when the second of them is written.
let unfinished = 2;
function finish() {
  if (--unfinished > 0) return;
  execFileSync(process.execPath, [join(root, 'test', 'build', 'finish-dist.mjs')], { stdio: 'inherit' });
}

export default [
  {
    ...common,
    name: 'index',
    entry: { index: CORE_ENTRY },
    splitting: false,
    onSuccess: async () => finish(),
    dts: {
      resolve: ['eventemitter3'],
      entry: {
        index: 'src/index.ts',
        testing: 'src/testing/index.ts',
        prometheus: 'src/exporters/prometheus.ts',
        otel: 'src/exporters/otel.ts',
        llm: 'src/llm/index.ts',
      },
    },
  },
  {
    ...common,
    name: 'entries',
    entry: {
      testing: 'src/testing/index.ts',
      prometheus: 'src/exporters/prometheus.ts',
      otel: 'src/exporters/otel.ts',
      llm: 'src/llm/index.ts',
      cli: 'src/cli/main.ts',
      'lazy-report': 'src/report/run-report.ts',
      'lazy-timeline': 'src/exporters/timeline.ts',
      'lazy-live-intensity': 'src/lazy/live-intensity.ts',
      'lazy-reporters': 'src/lazy/reporters.ts',
      'lazy-rapl': 'src/sources/rapl-source.ts',
      'lazy-nvml': 'src/sources/nvml-source.ts',
      'lazy-inference': 'src/inference/call-tracker.ts',
    },
    splitting: true,
    dts: false,
    esbuildPlugins: [fromIndex()],
    onSuccess: async () => finish(),
  },
];
