// src/native/load.ts: where the addon comes from, and what a failed load reports.
import { copyFileSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadNative, loadNativeFromDir, NATIVE_FIX } from '../../src/native/load.js';
import { fakeLibrary, nativeAddon } from './nvml-helpers.js';

const root = join(__dirname, '..', '..');

describe('loadNative', () => {
  it("loads native/build/Release of the package by default, once", () => {
    const addon = nativeAddon().path!;
    const first = loadNative({ env: {} });
    expect(first.path).toBe(join(root, 'native', 'build', 'Release', 'wattprint.node'));
    expect(first.path).toBe(addon);
    expect(first.errors).toEqual([]);
    expect(typeof first.binding!.nvmlInit).toBe('function');
    expect(typeof first.binding!.raplReadFiles).toBe('function');
    expect(loadNative({ env: {} })).toBe(first);
  });

  it('is disabled by `native: false` or WATTPRINT_NATIVE=0, with no candidate tried', () => {
    expect(loadNative({ disabled: true })).toMatchObject({ errors: [], disabled: true, fix: expect.stringContaining('`native: false`') });
    for (const v of ['0', 'false', 'OFF']) {
      const r = loadNative({ env: { WATTPRINT_NATIVE: v } });
      expect(r.binding).toBeUndefined();
      expect(r.fix).toContain(`WATTPRINT_NATIVE=${v}`);
    }
  });

  it('never throws for a bad explicit path: it records the candidate and the fix', () => {
    const r = loadNative({ path: '/nonexistent/wattprint.node' });
    expect(r.binding).toBeUndefined();
    expect(r.errors).toEqual([{ candidate: '/nonexistent/wattprint.node', error: expect.stringMatching(/Cannot find module|cannot open/) }]);
    expect(r.fix).toBe(NATIVE_FIX);
    expect(r.fix).toContain('npm rebuild wattprint');
  });

  it('tries nothing off Linux: the addon is Linux-only', () => {
    const addon = nativeAddon().path!;
    const platform = Object.getOwnPropertyDescriptor(process, 'platform')!;
    Object.defineProperty(process, 'platform', { value: 'darwin' });
    try {
      const r = loadNative({ path: addon, env: {} });
      expect(r).toEqual({ errors: [], fix: expect.stringContaining('Linux-only') });
    } finally {
      Object.defineProperty(process, 'platform', platform);
    }
  });

  it('refuses a shared library that is not the wattprint addon', () => {
    const dir = mkdtempSync(join(tmpdir(), 'wattprint-load-'));
    copyFileSync(fakeLibrary(), join(dir, 'other.node'));
    const r = loadNative({ path: join(dir, 'other.node') });
    expect(r.binding).toBeUndefined();
    expect(r.errors[0]!.error).toMatch(/self-register|not the wattprint addon/);
  });
});

describe('loadNativeFromDir', () => {
  function nativeDir() {
    const dir = mkdtempSync(join(tmpdir(), 'wattprint-native-'));
    return dir;
  }

  it('falls back to the prebuild when the local build does not load, listing each failure', () => {
    const dir = nativeDir();
    mkdirSync(join(dir, 'build', 'Release'), { recursive: true });
    writeFileSync(join(dir, 'build', 'Release', 'wattprint.node'), 'not an ELF file');
    const prebuilds = join(dir, 'prebuilds', `${process.platform}-${process.arch}`);
    mkdirSync(prebuilds, { recursive: true });
    writeFileSync(join(prebuilds, 'wattprint.musl.node'), 'skipped on glibc');
    copyFileSync(nativeAddon().path!, join(prebuilds, 'wattprint.glibc.node'));
    const r = loadNativeFromDir(dir);
    expect(r.path).toBe(join(prebuilds, 'wattprint.glibc.node'));
    expect(typeof r.binding!.nvmlDeviceGetCount).toBe('function');
    expect(r.errors).toEqual([{ candidate: join(dir, 'build', 'Release', 'wattprint.node'), error: expect.stringMatching(/file too short|invalid ELF header/) }]);
  });

  it("reports node-gyp-build's message when there is nothing to load", () => {
    const dir = nativeDir();
    const r = loadNativeFromDir(dir);
    expect(r.binding).toBeUndefined();
    expect(r.errors).toEqual([{ candidate: dir, error: expect.stringContaining('No native build was found for platform=linux') }]);
    expect(r.fix).toBe(NATIVE_FIX);
  });
});
