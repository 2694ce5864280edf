import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readCsv } from '../../src/reporters/index.js';
import { burnCpu, cliBundle, runCli, startCli, tempDir, waitFor } from './helpers.js';

const rows = (dir: string, file = 'emissions.csv') => readCsv(join(dir, file));
const num = (r: Record<string, string>, k: string) => Number(r[k]);

describe('wattprint run', () => {
  it('tracks a real command end to end: CSV row, process mode, summary, exit 0', async () => {
    const out = tempDir();
    const r = await runCli(['run', '--measure-power-secs', '0.5', '--output-dir', out, '--country-iso-code', 'FRA', '--', ...burnCpu(1.5)]);
    expect(r.code).toBe(0);
    const [row, ...more] = rows(out);
    expect(more).toHaveLength(0);
    expect(num(row!, 'duration')).toBeGreaterThanOrEqual(1.4);
    expect(num(row!, 'cpu_energy')).toBeGreaterThan(0);
    expect(row!.tracking_mode).toBe('process');
    expect(row!.country_iso_code).toBe('FRA');
    // Energies are consistent: the total is the sum of the components, emissions = energy × intensity.
    const total = num(row!, 'cpu_energy') + num(row!, 'gpu_energy') + num(row!, 'ram_energy');
    expect(num(row!, 'energy_consumed')).toBeCloseTo(total, 12);
    expect(r.stderr).toMatch(/exited with code 0/);
    expect(r.stderr).toMatch(/cpu\s+\S+ (J|Wh)\s+\S+ %\s+\S+ W\s+cpu-tdp \(estimated, process tree/);
    expect(r.stderr).toMatch(/emissions\s+\S+ (mg|g) CO2eq at \d+(\.\d+)? g\/kWh \(France\)/);
    expect(r.stderr).toContain(join(out, 'emissions.csv'));
    // A pipe gets no live status line.
    expect(r.stderr).not.toContain('\r');
  });

  it('counts the CPU time of a command shorter than one sampling interval (tree rooted at wattprint)', async () => {
    const out = tempDir();
    const powerW = 40;
    // Default --measure-power-secs (15 s): no sample falls while the command runs.
    const r = await runCli(['run', '-q', '--force-cpu-power-w', String(powerW), '--output-dir', out, '--', ...burnCpu(1)]);
    expect(r.code).toBe(0);
    const [row] = rows(out);
    const threads = num(row!, 'cpu_count');
    const cpuJ = num(row!, 'cpu_energy') * 3.6e6;
    // Process mode: TDP × CPU seconds of the tree / threads. At least the 1 s burnt; Node's start-up adds a little.
    expect(cpuJ).toBeGreaterThanOrEqual((powerW * 0.95) / threads);
    expect(cpuJ).toBeLessThan((powerW * 2) / threads);
  });

  it('exits with the command’s exit code', async () => {
    const out = tempDir();
    const r = await runCli(['run', '-q', '--output-dir', out, '--', 'node', '-e', 'process.exit(3)']);
    expect(r.code).toBe(3);
    expect(r.stderr).toBe('');
    expect(rows(out)).toHaveLength(1);
  });

  it('exits with 128 + the signal number when a signal kills the command, and says so', async () => {
    const out = tempDir();
    const r = await runCli(['run', '--output-dir', out, '--', 'node', '-e', "process.kill(process.pid, 'SIGTERM')"]);
    expect(r.code).toBe(143);
    expect(r.stderr).toMatch(/was killed by SIGTERM; exiting with 143/);
    expect(rows(out)).toHaveLength(1);
  });

  it('forwards SIGINT to the command and flushes the outputs before exiting', async () => {
    const out = tempDir();
    const script = "process.on('SIGINT', () => { console.log('child got SIGINT'); process.exit(7); }); console.log('ready'); setInterval(() => {}, 1000);";
    const run = startCli(['run', '-q', '--output-dir', out, '--', 'node', '-e', script]);
    await waitFor(run.stdout, 'ready');
    run.child.kill('SIGINT');
    const r = await run.done;
    expect(r.stdout).toContain('child got SIGINT');
    expect(r.code).toBe(7);
    expect(rows(out)).toHaveLength(1);
  });

  it('forwards SIGTERM: a command that does not handle it dies of it (143)', async () => {
    const out = tempDir();
    const run = startCli(['run', '--output-dir', out, '--', 'node', '-e', "console.log('ready'); setInterval(() => {}, 1000);"]);
    await waitFor(run.stdout, 'ready');
    run.child.kill('SIGTERM');
    const r = await run.done;
    expect(r.code).toBe(143);
    expect(r.stderr).toMatch(/killed by SIGTERM \(forwarded by wattprint\)/);
    expect(rows(out)).toHaveLength(1);
  });

  it('exits 127 with one line when the command is not found, and writes nothing', async () => {
    const out = tempDir();
    const r = await runCli(['run', '--output-dir', out, '--', 'wattprint-no-such-command-42']);
    expect(r.code).toBe(127);
    expect(r.stderr).toBe('wattprint: wattprint-no-such-command-42: command not found\n');
    expect(existsSync(join(out, 'emissions.csv'))).toBe(false);
  });

  it('exits 126 when the file is not executable', async () => {
    const out = tempDir();
    const file = join(out, 'script.sh');
    writeFileSync(file, '#!/bin/sh\necho hi\n');
    chmodSync(file, 0o644);
    const r = await runCli(['run', '--output-dir', out, '--', file]);
    expect(r.code).toBe(126);
    expect(r.stderr).toBe(`wattprint: ${file}: permission denied (not executable)\n`);
  });

  it('--machine tracks the whole machine', async () => {
    const out = tempDir();
    const r = await runCli(['run', '-q', '--machine', '--output-dir', out, '--project-name', 'm', '--', 'node', '-e', '']);
    expect(r.code).toBe(0);
    const [row] = rows(out);
    expect(row!.tracking_mode).toBe('machine');
    expect(row!.project_name).toBe('m');
  });

  it('--save-to-json writes the JSON Lines file and the run report with the boundary', async () => {
    const out = tempDir();
    const r = await runCli(['run', '-q', '--save-to-json', '--output-dir', out, '--', 'node', '-e', '']);
    expect(r.code).toBe(0);
    const lines = readFileSync(join(out, 'emissions.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(lines).toHaveLength(1);
    expect(lines[0].boundary.cpu.source).toBe('cpu-tdp');
    expect(lines[0].boundary.cpu.scope).toBe('process');
    const report = JSON.parse(readFileSync(join(out, 'wattprint-report.json'), 'utf8'));
    expect(report.run.runId).toBe(lines[0].run_id);
  });

  it('takes options from WATTPRINT_* variables and .wattprint.json, with flags winning', async () => {
    const cwd = tempDir();
    const out = tempDir();
    writeFileSync(join(cwd, '.wattprint.json'), JSON.stringify({ countryIsoCode: 'DEU', experimentName: 'from-file' }));
    const r = await runCli(['run', '-q', '--output-dir', out, '--experiment-id', 'from-flag', '--', 'node', '-e', ''], {
      cwd,
      env: { WATTPRINT_PROJECT_NAME: 'from-env', WATTPRINT_EXPERIMENT_ID: 'env-loses' },
    });
    expect(r.code).toBe(0);
    const [row] = rows(out);
    expect(row!.project_name).toBe('from-env');
    expect(row!.experiment_id).toBe('from-flag');
    expect(row!.country_iso_code).toBe('DEU');
  });

  it('refuses a library path from the working folder’s .wattprint.json, but takes it as a flag', async () => {
    const cwd = tempDir();
    const out = tempDir();
    writeFileSync(join(cwd, '.wattprint.json'), JSON.stringify({ nvmlLibraryPath: join(cwd, 'evil.so') }));
    const r = await runCli(['run', '-q', '--output-dir', out, '--', 'node', '-e', 'require("fs").writeFileSync("ran", "")'], { cwd });
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(
      `wattprint: Invalid option \`nvmlLibraryPath\`: a project-local config file may not set library or root paths; set it in the constructor, with the WATTPRINT_NVML_LIBRARY_PATH variable, a CLI flag or ~/.wattprint.json (from ${join(cwd, '.wattprint.json')})\n`,
    );
    expect(existsSync(join(cwd, 'ran'))).toBe(false);
    writeFileSync(join(cwd, '.wattprint.json'), '{}');
    const ok = await runCli(['run', '-q', '--output-dir', out, '--nvml-library-path', join(cwd, 'none.so'), '--', 'node', '-e', ''], { cwd });
    expect(ok.code).toBe(0);
  });
});

describe('wattprint run: usage errors exit 2 with one line', () => {
  const cases: Array<[string, string[], Record<string, string>, RegExp]> = [
    ['an unknown flag', ['--bogus'], {}, /^wattprint: unknown option '--bogus'\n$/],
    ['a misspelt flag, with a suggestion', ['--output-dri', 'x'], {}, /^wattprint: unknown option '--output-dri' \(Did you mean --output-dir\?\)\n$/],
    ['a non-number', ['--pue', 'abc'], {}, /^wattprint: option '--pue <factor>' argument 'abc' is invalid\. expected a number\.\n$/],
    ['an out-of-range value (library validation, named by flag)', ['--pue', '0.5'], {}, /^wattprint: invalid value for --pue: expected a PUE between 1 and 5.*got 0\.5\n$/],
    ['a bad choice', ['--on-csv-write', 'sometimes'], {}, /^wattprint: option '--on-csv-write <mode>' argument 'sometimes' is invalid\. Allowed choices are append, update\.\n$/],
    ['an unknown country', ['--country-iso-code', 'XXX'], {}, /^wattprint: invalid value for --country-iso-code: unknown ISO 3166-1 alpha-3 code 'XXX'.*\n$/],
    ['an output folder that cannot be created', ['--output-dir', '/dev/null/wattprint'], {}, /^wattprint: invalid value for --output-dir: folder '\/dev\/null\/wattprint' does not exist and cannot be created \(ENOTDIR\).*\n$/],
    ['a bad environment value, named by variable', [], { WATTPRINT_PUE: '0.3' }, /^wattprint: .*`pue`.*got 0\.3 \(from the environment variable WATTPRINT_PUE\)\n$/],
    ['--machine with --tracking-mode process', ['--machine', '--tracking-mode', 'process'], {}, /^wattprint: --machine conflicts with --tracking-mode process\n$/],
  ];
  it.each(cases)('%s', async (_name, flags, env, message) => {
    const out = tempDir();
    const r = await runCli(['run', ...flags, '--', 'node', '-e', 'require("fs").writeFileSync("ran", "")'], { env, cwd: out });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
    // Nothing was run.
    expect(existsSync(join(out, 'ran'))).toBe(false);
  });

  it('a missing command', async () => {
    const r = await runCli(['run']);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe("wattprint: missing required argument 'command'\n");
  });

  it('an unknown subcommand', async () => {
    const r = await runCli(['frobnicate']);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe("wattprint: unknown command 'frobnicate'\n");
  });
});

describe('wattprint --help', () => {
  it.each(['run', 'monitor', 'detect', 'report', 'estimate'])('%s --help shows examples and exits 0', async (cmd) => {
    const r = await runCli([cmd, '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`Usage: wattprint ${cmd}`);
    expect(r.stdout).toContain('Examples:');
    expect(r.stdout).toContain(`$ wattprint ${cmd}`);
  });

  it('run --help lists the library options in kebab-case', async () => {
    const r = await runCli(['run', '--help']);
    for (const flag of ['--project-name', '--experiment-id', '--country-iso-code', '--region', '--cloud-provider', '--cloud-region', '--output-dir', '--output-file', '--on-csv-write', '--measure-power-secs', '--pue', '--wue', '--gpu-ids', '--tracking-mode', '--force-cpu-power-w', '--force-ram-power-w', '--force-carbon-intensity', '--no-save-to-file', '--no-native', '--geolocate', '--no-cloud-metadata', '--offline-intensity-data'])
      expect(r.stdout).toContain(flag);
  });

  it('--version prints the package version', async () => {
    const r = await runCli(['--version']);
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toBe(JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')).version);
  });
});

describe('wattprint run on a terminal', () => {
  it.skipIf(!existsSync('/usr/bin/script'))('with --status shows a live status line refreshed in place, then clears it', async () => {
    const out = tempDir();
    const quote = (s: string) => `'${s.replaceAll("'", `'\\''`)}'`;
    const inner = [process.execPath, cliBundle(), 'run', '--status', '--output-dir', out, '--', ...burnCpu(2.2)].map(quote).join(' ');
    // script(1) gives the CLI a pseudo-terminal as stdin/stdout/stderr.
    const res = spawnSync('script', ['-qec', inner, '/dev/null'], { encoding: 'utf8', timeout: 30_000 });
    expect(res.status).toBe(0);
    const frames = res.stdout.split('\r\x1b[2K').slice(1);
    const status = frames.filter((f) => f.startsWith('wattprint ') && f.includes('CO2eq'));
    expect(status.length).toBeGreaterThanOrEqual(2);
    expect(status.at(-1)).toMatch(/^wattprint \d+(\.\d+)? s \| cpu \S+ W {2}gpu \S+ W {2}ram \S+ W \| \S+ (J|Wh) \| \S+ (mg|g) CO2eq$/);
    // The line is erased before the summary is printed.
    expect(res.stdout).toMatch(/\r\x1b\[2Kwattprint: `node -e .*` exited with code 0/);
  });

  it.skipIf(!existsSync('/usr/bin/script'))('prints no status line with --quiet even on a terminal', async () => {
    const out = tempDir();
    const inner = `'${process.execPath}' '${cliBundle()}' run -q --status --output-dir '${out}' -- node -e ''`;
    const res = spawnSync('script', ['-qec', inner, '/dev/null'], { encoding: 'utf8', timeout: 30_000 });
    expect(res.status).toBe(0);
    expect(res.stdout).not.toContain('\x1b[2K');
  });
});
