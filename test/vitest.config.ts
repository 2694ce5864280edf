import { defineConfig } from 'vitest/config';
import { transform } from 'esbuild';

// Vite 8 transforms TS with Oxc, which does not lower TC39 decorators for Node 20
// (see ../shared/notes/toolchain.md); esbuild does, and files under test/legacy/
// are compiled with experimentalDecorators to test the legacy form.
export default defineConfig({
  root: new URL('..', import.meta.url).pathname,
  // The sources have no dist/lazy-*.cjs to require(): see test/build/chunk-loader-source.ts.
  resolve: { alias: [{ find: /^\.\/chunk-loader\.js$/, replacement: new URL('build/chunk-loader-source.ts', import.meta.url).pathname }] },
  oxc: false,
  plugins: [
    {
      name: 'esbuild-ts-decorators',
      enforce: 'pre',
      async transform(code, id) {
        if (!/\.[cm]?tsx?$/.test(id) || id.includes('/node_modules/')) return null;
        const r = await transform(code, {
          loader: 'ts',
          target: 'node20',
          format: 'esm',
          sourcemap: true,
          sourcefile: id,
          tsconfigRaw: { compilerOptions: { experimentalDecorators: id.includes('/test/legacy/') } },
        });
        return { code: r.code, map: r.map };
      },
    },
  ],
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/global-setup.ts'],
    testTimeout: 30000,
    hookTimeout: 120000,
    pool: 'forks',
    // No test may reach a real cloud metadata service (CI runners are cloud VMs) or depend on the
    // machine's time zone for the location: tests that need either inject them.
    env: { WATTPRINT_CLOUD_METADATA: 'false', TZ: 'UTC' },
  },
});
