#!/usr/bin/env node
// Runs once both passes of the build (test/build/tsup.config.mjs) are written, so `npm run build`
// and `npx tsup --config test/build/tsup.config.mjs` both give the whole dist/:
// - one implementation: tsup builds CommonJS only (Node 20 cannot require() ESM), and each ESM
//   entry of package.json "exports" (dist/X.js) requires dist/X.cjs and exports its names, so
//   `import` and `require` share one set of classes (instanceof holds across them). The names are
//   listed here rather than found by Node's cjs-module-lexer at every import (`export * from` a
//   CommonJS file lexes it: ~1–2 ms and the lexer's heap at each `import 'wattprint'`); a name the
//   list misses fails the build. dist/X.d.ts is `export * from './X.cjs'`.
// - the bin dist/cli.js is a shebang line importing dist/cli.cjs.
// - the CPU TDP index is regenerated when cpu-tdp.json changed and shipped once, in dist/data/.
// - the offline intensity tables that src/intensity/tables.ts reads on first use go to dist/data/.
import { execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { buildIndex } from '../../src/estimate/data/generate-index.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

// tsup tells onSuccess nothing about where it wrote: a test that builds into a private folder
// (`tsup -d <dir>`) names the same folder in WATTPRINT_DIST_DIR.
const dist = process.env.WATTPRINT_DIST_DIR ? resolve(process.env.WATTPRINT_DIST_DIR) : join(root, 'dist');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));

function writeIfChanged(file, text) {
  let old;
  try {
    old = readFileSync(file, 'utf8');
  } catch {
    old = undefined;
  }
  if (old !== text) writeFileSync(file, text);
}

// The TDP index: rewritten only when its content changes, so src/ keeps its mtime (the test set-up
// rebuilds dist/ when src/ is newer).
const dataDir = join(root, 'src', 'estimate', 'data');
const index = join(dataDir, 'cpu-tdp.index.json');
writeIfChanged(index, buildIndex(JSON.parse(readFileSync(join(dataDir, 'cpu-tdp.json'), 'utf8'))));
mkdirSync(join(dist, 'data'), { recursive: true });
copyFileSync(index, join(dist, 'data', 'cpu-tdp.index.json'));
for (const table of ['global-energy-mix', 'gcp-impact', 'cloud-regions', 'timezones', 'usa-emissions', 'canada-energy-mix', 'nordic-emissions']) {
  const text = readFileSync(join(root, 'src', 'intensity', 'data', `${table}.json`), 'utf8');
  writeFileSync(join(dist, 'data', `${table}.json`), `${JSON.stringify(JSON.parse(text))}\n`);
}

// dist/index.cjs hands its modules to the other entries (src/core-modules.ts) under a name that
// is not API: not enumerable, and not exported by dist/index.js.
const CORE_EXPORT = '__wattprintCore';
const indexCjs = join(dist, 'index.cjs');
const indexText = readFileSync(indexCjs, 'utf8');
const coreExport = new RegExp(`^exports\\.${CORE_EXPORT} = ([\\w$]+);$`, 'm');
if (!coreExport.test(indexText)) throw new Error(`finish-dist: dist/index.cjs has no \`exports.${CORE_EXPORT} = …;\` line to hide`);
writeFileSync(indexCjs, indexText.replace(coreExport, `Object.defineProperty(exports, '${CORE_EXPORT}', { value: $1 });`));

/** The names esbuild's CommonJS output exports: `exports.x = ` and `Object.defineProperty(exports, "x", …)`. */
function esmEntry(base, cjsText) {
  const names = [...cjsText.matchAll(/^(?:exports\.([\w$]+) = |Object\.defineProperty\(exports, "([\w$]+)")/gm)].map((m) => m[1] ?? m[2]);
  return (
    `// The ES module face of ${base}.cjs, the one implementation (test/build/finish-dist.mjs).\n` +
    `import { createRequire } from 'node:module';\n` +
    `export const { ${names.join(', ')} } = createRequire(import.meta.url)('${base}.cjs');\n`
  );
}

const entries = [];
for (const [subpath, target] of Object.entries(pkg.exports)) {
  const esm = target?.import?.default;
  const cjs = target?.require?.default;
  if (typeof esm !== 'string' || typeof cjs !== 'string') continue;
  const base = `./${cjs.replace(/^\.\/dist\//, '').replace(/\.cjs$/, '')}`;
  if (esm !== `./dist/${base.slice(2)}.js` || target.import.types !== `./dist/${base.slice(2)}.d.ts`) {
    throw new Error(`finish-dist: exports["${subpath}"] must map import to ${base}.js / ${base}.d.ts beside ${cjs}`);
  }
  writeFileSync(join(dist, `${base}.js`), esmEntry(base, readFileSync(join(dist, `${base}.cjs`), 'utf8')));
  writeFileSync(join(dist, `${base}.d.ts`), `export * from '${base}.cjs';\n`);
  entries.push({ subpath, esm: join(dist, `${base}.js`), cjs: join(dist, `${base}.cjs`) });
}

for (const [name, bin] of Object.entries(typeof pkg.bin === 'string' ? { [pkg.name]: pkg.bin } : pkg.bin ?? {})) {
  if (!bin.endsWith('.js')) continue;
  const file = join(dist, relative('dist', bin));
  writeFileSync(file, `#!/usr/bin/env node\n// The ${name} command; the implementation is CommonJS, as the library is.\nimport './${bin.split('/').pop().replace(/\.js$/, '.cjs')}';\n`);
  chmodSync(file, 0o755);
}

// In a fresh process: ESM names must equal the CJS exports, per entry.
// Only for the package's own dist/: a private build elsewhere (`tsup -d /tmp/x`) may not yet have
// the package.json and node_modules beside it that the code loads.
if (dist !== join(root, 'dist')) process.exit(0);
const check = entries
  .map((e) => `[${JSON.stringify(e.subpath)}, Object.keys(await import(${JSON.stringify(pathToFileURL(e.esm).href)})), Object.keys(require(${JSON.stringify(e.cjs)}))]`)
  .join(',');
const names = JSON.parse(
  execFileSync(
    process.execPath,
    ['--input-type=module', '-e', `import { createRequire } from 'node:module'; const require = createRequire(import.meta.url); console.log(JSON.stringify([${check}]));`],
    { encoding: 'utf8', env: { ...process.env, WATTPRINT_NATIVE: '0' } },
  ),
);
for (const [subpath, esmNames, cjsNames] of names) {
  const missing = cjsNames.filter((n) => !esmNames.includes(n));
  if (missing.length > 0) throw new Error(`finish-dist: ${subpath}: ESM import misses ${missing.join(', ')} (esmEntry found no export statement for them)`);
}
