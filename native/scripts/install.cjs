#!/usr/bin/env node
// npm "install" script of wattprint. It never fails the install: if a prebuilt binary for this
// platform loads, nothing happens; else it tries `node-gyp rebuild` in native/; if that fails it
// prints one line saying wattprint will use estimates, and how to fix it, and exits 0.
// `WATTPRINT_BUILD_FROM_SOURCE=1 npm rebuild wattprint` compiles even when a prebuild loads.
// The addon reads Linux interfaces only (NVML's Linux library, powercap, /dev/cpu/N/msr): on other
// systems there is nothing to build and the script exits at once (binding.gyp builds nothing there).
'use strict';
const { spawnSync } = require('node:child_process');
const { writeFileSync } = require('node:fs');
const path = require('node:path');

const nativeDir = path.join(__dirname, '..');

function loadedPath() {
  try {
    const file = require('node-gyp-build').resolve(nativeDir);
    return typeof require(file).nvmlInit === 'function' ? file : undefined;
  } catch {
    return undefined;
  }
}

function main() {
  if (process.platform !== 'linux') return;
  const flag = String(process.env.WATTPRINT_NATIVE || '').toLowerCase();
  if (flag === '0' || flag === 'false' || flag === 'off') return;
  const fromSource = process.env.WATTPRINT_BUILD_FROM_SOURCE === '1' || process.env.npm_config_build_from_source === 'true';
  if (!fromSource && loadedPath()) return;
  // npm exports the path of its bundled node-gyp to lifecycle scripts; elsewhere use PATH.
  const gyp = process.env.npm_config_node_gyp;
  const [cmd, args] = gyp ? [process.execPath, [gyp, 'rebuild']] : ['node-gyp', ['rebuild']];
  const r = spawnSync(cmd, args, { cwd: nativeDir, encoding: 'utf8', env: process.env, timeout: 600000 });
  if (r.status === 0 && loadedPath()) return;
  let why;
  if (r.error && r.error.code === 'ENOENT') why = 'node-gyp not found';
  else if (r.error) why = r.error.message;
  else {
    const lines = `${r.stdout || ''}\n${r.stderr || ''}`.split('\n').map((l) => l.trim()).filter(Boolean);
    const last = lines.filter((l) => /error|not found|ERR!/i.test(l) && !/gyp ERR! (cwd|node -v|node-gyp -v|System|command|not ok)/.test(l)).pop();
    why = `node-gyp exited ${r.status === null ? r.signal : r.status}${last ? `: ${last.slice(0, 200)}` : ''}`;
  }
  let log = '';
  try {
    const file = path.join(nativeDir, 'build-error.log');
    writeFileSync(file, `${cmd} ${args.join(' ')}\n${r.stdout || ''}\n${r.stderr || ''}`);
    log = ` (log: ${file})`;
  } catch {
    // A read-only install folder: the one line below still says what to do.
  }
  console.log(
    `wattprint: native addon not built (${why})${log}; GPU energy (NVML) will not be measured and wattprint will use estimates where RAPL is unreadable. ` +
      'Fix: install a C++ compiler, make and python3, then run `npm rebuild wattprint`.',
  );
}

try {
  main();
} catch (err) {
  console.log(`wattprint: native addon not built (${err && err.message}); GPU energy will not be measured. Fix: run \`npm rebuild wattprint\`.`);
}
process.exit(0);
