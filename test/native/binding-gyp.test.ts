// native/binding.gyp compiles the addon on Linux only: elsewhere its target is empty, so a Windows
// or macOS install never needs a compiler. gyp's OS variable is overridden to configure each case
// here (the make generator, in a scratch copy).
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = join(__dirname, '..', '..');

function nodeGyp(): string {
  if (process.env.npm_config_node_gyp) return process.env.npm_config_node_gyp;
  const npmRoot = execFileSync('npm', ['root', '-g'], { encoding: 'utf8' }).trim();
  return join(npmRoot, 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js');
}

function configure(os: string): string {
  const dir = mkdtempSync(join(tmpdir(), `wattprint-gyp-${os}-`));
  copyFileSync(join(root, 'native', 'binding.gyp'), join(dir, 'binding.gyp'));
  const env = { ...process.env, NODE_PATH: join(root, 'node_modules') };
  // Offline, node-gyp reads Node's headers from nodedir (Debian: /usr/include/node).
  if (!env.npm_config_nodedir) env.npm_config_nodedir = join(dirname(process.execPath), '..');
  execFileSync(process.execPath, [nodeGyp(), 'configure', '--', `-DOS=${os}`], { cwd: dir, env, encoding: 'utf8', stdio: 'pipe' });
  return readFileSync(join(dir, 'build', 'wattprint.target.mk'), 'utf8');
}

describe('native/binding.gyp', () => {
  it('compiles nvml.cc and rapl.cc on Linux', () => {
    const mk = configure('linux');
    expect(mk).toContain('src/nvml.o');
    expect(mk).toContain('src/rapl.o');
    expect(mk).toContain('-l:libdl.so.2');
  }, 60_000);

  it.each(['mac', 'win'])('builds nothing on %s', (os) => {
    const mk = configure(os);
    expect(mk).not.toMatch(/\.o\b/);
    expect(mk).toContain('wattprint.stamp');
  }, 60_000);
});
