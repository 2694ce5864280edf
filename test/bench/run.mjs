// Runs every benchmark in this folder against the built package (npm run bench builds first).
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const only = process.argv.slice(2);
const files = readdirSync(here)
  .filter((f) => f.endsWith('.mjs') && f !== 'run.mjs' && !f.endsWith('-server.mjs')) // servers are started by their bench
  .filter((f) => only.length === 0 || only.some((o) => f.includes(o)))
  .sort();
if (!existsSync(join(here, '../../dist/index.js'))) {
  console.error('dist/ is missing: run `npm run build` first (npm run bench does it).');
  process.exit(1);
}
let failed = 0;
for (const f of files) {
  console.log(`\n## ${f}`);
  const r = spawnSync(process.execPath, ['--expose-gc', join(here, f)], { stdio: 'inherit' });
  if (r.status !== 0) failed++;
}
process.exit(failed ? 1 : 0);
