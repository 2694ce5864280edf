#!/usr/bin/env node
// `npm run build:prebuilds`: builds the addon for linux-x64 and linux-arm64 into
// native/prebuilds/linux-<arch>/wattprint.glibc.node, with node-gyp and the one binding.gyp (so
// the flags that keep the binary loadable on glibc 2.17 live in one place), in a scratch copy of
// native/ so native/build (the local build the tests use) is left alone.
//
// arm64 is cross-compiled with Debian's g++-aarch64-linux-gnu (installed by test/setup.sh). Where
// that compiler is absent the arm64 prebuild is skipped with a message saying so, and an arm64
// prebuild already in native/prebuilds is kept. On a non-Linux host nothing is built.
import { spawnSync } from 'node:child_process';
import { copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const nativeDir = join(dirname(fileURLToPath(import.meta.url)), '..');

/** The toolchains, by Node's arch name. `prefix` is the GNU triplet prefix of a cross toolchain. */
const TARGETS = [
  { arch: 'x64', host: 'x64', prefix: 'x86_64-linux-gnu-' },
  { arch: 'arm64', host: 'arm64', prefix: 'aarch64-linux-gnu-' },
];

function has(cmd) {
  return spawnSync(cmd, ['--version'], { stdio: 'ignore' }).status === 0;
}

/** npm hands lifecycle scripts its bundled node-gyp; elsewhere, npm's copy next to this node. */
function nodeGyp() {
  if (process.env.npm_config_node_gyp) return process.env.npm_config_node_gyp;
  const bundled = join(dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js');
  return existsSync(bundled) ? bundled : undefined;
}

function toolchain(t) {
  if (process.arch === t.host) return { cxx: 'g++', cc: 'gcc', strip: 'strip' };
  const cxx = `${t.prefix}g++`;
  return has(cxx) ? { cxx, cc: `${t.prefix}gcc`, strip: `${t.prefix}strip` } : undefined;
}

function build(t, tools, gyp) {
  const scratch = mkdtempSync(join(tmpdir(), `wattprint-prebuild-${t.arch}-`));
  try {
    copyFileSync(join(nativeDir, 'binding.gyp'), join(scratch, 'binding.gyp'));
    cpSync(join(nativeDir, 'src'), join(scratch, 'src'), { recursive: true });
    // binding.gyp asks node for node-addon-api's headers; from the scratch folder, NODE_PATH finds them.
    const modules = join(dirname(createRequire(import.meta.url).resolve('node-addon-api/package.json')), '..');
    const env = { ...process.env, CXX: tools.cxx, CC: tools.cc, LINK: tools.cxx, NODE_PATH: modules };
    // Offline, node-gyp needs the headers of the running Node (Debian ships them in /usr/include/node).
    const prefix = join(dirname(process.execPath), '..');
    if (!env.npm_config_nodedir && existsSync(join(prefix, 'include', 'node', 'node_api.h'))) env.npm_config_nodedir = prefix;
    const r = spawnSync(process.execPath, [gyp, 'rebuild', `--arch=${t.arch}`, '--release'], { cwd: scratch, env, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`node-gyp rebuild --arch=${t.arch} failed:\n${r.stdout}\n${r.stderr}`);
    const out = join(nativeDir, 'prebuilds', `linux-${t.arch}`);
    mkdirSync(out, { recursive: true });
    const file = join(out, 'wattprint.glibc.node');
    copyFileSync(join(scratch, 'build', 'Release', 'wattprint.node'), file);
    const s = spawnSync(tools.strip, ['--strip-unneeded', file], { encoding: 'utf8' });
    if (s.status !== 0) throw new Error(`${tools.strip} ${file} failed: ${s.stderr}`);
    return file;
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

function main() {
  if (process.platform !== 'linux') {
    console.log(`build:prebuilds: the addon is Linux-only; nothing to build on ${process.platform}`);
    return;
  }
  const gyp = nodeGyp();
  if (!gyp) throw new Error('build:prebuilds: node-gyp not found (run it through npm: `npm run build:prebuilds`)');
  for (const t of TARGETS) {
    const tools = toolchain(t);
    if (!tools) {
      console.log(
        `build:prebuilds: skipping linux-${t.arch}: ${t.prefix}g++ not found (Debian: apt-get install g++-${t.prefix.slice(0, -1)}; test/setup.sh installs it)`,
      );
      continue;
    }
    console.log(`build:prebuilds: ${build(t, tools, gyp)}`);
  }
}

main();
