import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';

const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');

describe('public types', () => {
  it('test/types/*.ts type-check under strict TypeScript (wrap inference, this, decorator tokens)', () => {
    const r = spawnSync(process.execPath, [tsc, '-p', new URL('./tsconfig.json', import.meta.url).pathname], { encoding: 'utf8' });
    expect(r.stdout + r.stderr).toBe('');
    expect(r.status).toBe(0);
  }, 120_000);
});
