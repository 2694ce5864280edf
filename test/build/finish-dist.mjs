#!/usr/bin/env node
// Runs after tsup (package.json "tsup".onSuccess), so `npm run build` and a bare `npx tsup` both
// give the whole dist/:
// - one implementation: tsup builds CommonJS only (Node 20 cannot require() ESM), and each ESM
//   entry of package.json "exports" (dist/X.js, dist/X.d.ts) becomes `export * from './X.cjs'`,
//   so `import` and `require` share one set of classes (instanceof holds across them). Every name
//   the CJS entry exports must come through Node's cjs-module-lexer; a name it misses fails the build.
// - the bin dist/cli.js is a shebang line importing dist/cli.cjs.
// - the CPU TDP index is regenerated when cpu-tdp.json changed and shipped once, in dist/data/.
import { execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { buildIndex } from '../../src/estimate/data/generate-index.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/**
 * The folder tsup just wrote: tsup passes nothing to onSuccess, so a `tsup -d <dir>` (a test's
 * private build) is found on the command line of the tsup process above this one (Linux /proc);
 * otherwise the configured dist/.
 */
function outDir() {
  let pid = process.ppid;
  for (let depth = 0; depth < 4 && pid > 1; depth++) {
    try {
      const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
      if (argv.some((a) => /(^|\/)tsup(\.js)?$|tsup\/dist\/cli/.test(a))) {
        const i = argv.findIndex((a) => a === '-d' || a === '--out-dir' || a === '--outDir');
        return i >= 0 && argv[i + 1] ? resolve(readlinkSync(`/proc/${pid}/cwd`), argv[i + 1]) : join(root, 'dist');
      }
      pid = Number(readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ')[1]);
    } catch {
      break;
    }
  }
  return join(root, 'dist');
}
const dist = outDir();
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
writeIfChanged(index, `${JSON.stringify(buildIndex(JSON.parse(readFileSync(join(dataDir, 'cpu-tdp.json'), 'utf8'))))}\n`);
mkdirSync(join(dist, 'data'), { recursive: true });
copyFileSync(index, join(dist, 'data', 'cpu-tdp.index.json'));

const entries = [];
for (const [subpath, target] of Object.entries(pkg.exports)) {
  const esm = target?.import?.default;
  const cjs = target?.require?.default;
  if (typeof esm !== 'string' || typeof cjs !== 'string') continue;
  const base = `./${cjs.replace(/^\.\/dist\//, '').replace(/\.cjs$/, '')}`;
  if (esm !== `./dist/${base.slice(2)}.js` || target.import.types !== `./dist/${base.slice(2)}.d.ts`) {
    throw new Error(`finish-dist: exports["${subpath}"] must map import to ${base}.js / ${base}.d.ts beside ${cjs}`);
  }
  writeFileSync(join(dist, `${base}.js`), `export * from '${base}.cjs';\n`);
  writeFileSync(join(dist, `${base}.d.ts`), `export * from '${base}.cjs';\n`);
  entries.push({ subpath, esm: join(dist, `${base}.js`), cjs: join(dist, `${base}.cjs`) });
}

for (const [name, bin] of Object.entries(typeof pkg.bin === 'string' ? { [pkg.name]: pkg.bin } : pkg.bin ?? {})) {
  if (!bin.endsWith('.js')) continue;
  const file = join(dist, relative('dist', bin));
  writeFileSync(file, `#!/usr/bin/env node\n// The ${name} command; the implementation is CommonJS, as the library is.\nimport './${bin.split('/').pop().replace(/\.js$/, '.cjs')}';\n`);
  chmodSync(file, 0o755);
}

// In a fresh process: ESM names (through cjs-module-lexer) must equal the CJS exports, per entry.
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
  if (missing.length > 0) throw new Error(`finish-dist: ${subpath}: ESM import misses ${missing.join(', ')} (not found by cjs-module-lexer)`);
}
