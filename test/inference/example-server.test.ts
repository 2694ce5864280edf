import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Ajv from 'ajv';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const repo = new URL('../..', import.meta.url).pathname;
let root: string;

// The example imports ../dist/index.js. It is built into a private copy of that layout, so this
// test neither needs nor races with the shared dist/ that other suites build and clean.
beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'wattprint-example-'));
  const dist = join(root, 'dist');
  execFileSync('npx', ['tsup', '--config', 'test/build/tsup.config.mjs', '-d', dist, '--no-dts'], { cwd: repo, stdio: 'pipe', timeout: 110_000, env: { ...process.env, WATTPRINT_DIST_DIR: dist } });
  mkdirSync(join(root, 'examples'));
  mkdirSync(join(root, 'out'));
  copyFileSync(join(repo, 'examples/inference-server.mjs'), join(root, 'examples/inference-server.mjs'));
  copyFileSync(join(repo, 'package.json'), join(root, 'package.json'));
  symlinkSync(join(repo, 'node_modules'), join(root, 'node_modules'));
});

let child: ChildProcess | undefined;
afterAll(() => {
  if (child && child.exitCode === null) child.kill('SIGKILL');
});

describe('examples/inference-server.mjs', () => {
  it('serves requests, prints per-request energy lines, and exits cleanly with a valid report', async () => {
    child = spawn(process.execPath, [join(root, 'examples/inference-server.mjs')], {
      cwd: join(root, 'out'),
      env: { ...process.env, PORT: '0', WATTPRINT_COUNTRY_ISO_CODE: 'FRA', WATTPRINT_NATIVE: 'false' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (b) => (stdout += b));
    child.stderr!.on('data', (b) => (stderr += b));
    const exited = new Promise<number | null>((r) => child!.on('exit', (code) => r(code)));
    const waitFor = async (re: RegExp, what: string) => {
      for (let i = 0; i < 300; i++) {
        const m = stdout.match(re);
        if (m) return m;
        await new Promise((r) => setTimeout(r, 50));
      }
      throw new Error(`timed out waiting for ${what}\nstdout:\n${stdout}\nstderr:\n${stderr}`);
    };
    const port = Number((await waitFor(/listening on http:\/\/127\.0\.0\.1:(\d+)/, 'listening'))[1]);
    const get = async (path: string) => {
      const res = await fetch(`http://127.0.0.1:${port}${path}`);
      return { status: res.status, body: await res.text() };
    };
    // Three concurrent requests, then two in sequence.
    const concurrent = await Promise.all([
      get('/generate?prompt=one+two+three&tokens=8'),
      get('/generate?prompt=four&tokens=16'),
      get('/generate?prompt=five+six&tokens=4'),
    ]);
    for (const r of concurrent) expect(r.status).toBe(200);
    expect(concurrent[1]!.body.trim().split(' ')).toHaveLength(16);
    await get('/generate?prompt=seven&tokens=8');
    await get('/generate?prompt=eight&tokens=8');
    expect((await get('/nope')).status).toBe(404);
    const lines = () => stdout.split('\n').filter((l) => l.startsWith('request '));
    for (let i = 0; i < 100 && lines().length < 5; i++) await new Promise((r) => setTimeout(r, 20));
    const stats = JSON.parse((await get('/stats')).body);
    expect(stats.count).toBe(5);

    const parsed = lines().map((l) => {
      const f = Object.fromEntries([...l.matchAll(/(\w+)=(\S+)/g)].map((m) => [m[1], m[2]]));
      return { id: Number(l.split(' ')[1]), ...f } as Record<string, string | number>;
    });
    expect(parsed.map((p) => p.id).sort()).toEqual([1, 2, 3, 4, 5]);
    for (const p of parsed) {
      expect(Number(p.energy_j)).toBeGreaterThan(0);
      expect(Number(p.duration_s)).toBeGreaterThan(0);
      expect(Number(p.energy_j)).toBeCloseTo(Number(p.cpu_j) + Number(p.gpu_j) + Number(p.ram_j), 4);
    }
    const byId = new Map(parsed.map((p) => [p.id, p]));
    expect(byId.get(2)!.output_tokens).toBe('16');
    expect(byId.get(1)!.input_tokens).toBe('3');

    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    const summary = stdout.split('\n').find((l) => l.startsWith('summary '));
    expect(summary, stdout + stderr).toMatch(/requests=5 errors=0/);

    const report = JSON.parse(readFileSync(join(root, 'out', 'wattprint-report.json'), 'utf8'));
    const ajv = new Ajv({ allErrors: true, strict: true });
    ajv.addFormat('date-time', /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/);
    const validate = ajv.compile(JSON.parse(readFileSync(join(repo, 'docs/report-schema.json'), 'utf8')));
    expect(validate(report), JSON.stringify(validate.errors)).toBe(true);
    expect(report.tokens.outputTokens).toBe(8 + 16 + 4 + 8 + 8);
    expect(report.operationalConditions.concurrency.maxInFlight).toBeGreaterThanOrEqual(2);
    expect(report.task).toEqual({ task: 'text generation', modality: 'text' });
  }, 60_000);
});
