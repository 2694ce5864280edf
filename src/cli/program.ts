import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { VERSION } from '../version.js';
import { detectCommand } from './detect.js';
import { estimateCommand, formatGpuList, type EstimateFlags } from './estimate.js';
import { estimateLlmCommand } from './estimate-llm.js';
import { CliError, EXIT, exitCodeOf, oneLine } from './exit.js';
import { processIO, type CliIO } from './io.js';
import { monitorCommand, type MonitorFlags } from './monitor.js';
import { renderHtml } from './report/html.js';
import { loadReportInputs } from './report/load.js';
import { formatReportText } from './report/text.js';
import { runCommand } from './run.js';
import { addTrackerFlags, trackerOptionsFromFlags } from './tracker-flags.js';

const number = (value: string): number => {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n)) throw new InvalidArgumentError('expected a number.');
  return n;
};
const positiveNumber = (value: string): number => {
  const n = number(value);
  if (!(n > 0)) throw new InvalidArgumentError('expected a number > 0.');
  return n;
};
const positiveInt = (value: string): number => {
  const n = number(value);
  if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError('expected a positive integer.');
  return n;
};

const port = (value: string): number => {
  const n = number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new InvalidArgumentError('expected a TCP port, 0 to 65535.');
  return n;
};

const ENV_NOTE = `
Every tracker flag can also come from a WATTPRINT_<NAME> environment variable (WATTPRINT_COUNTRY_ISO_CODE=FRA)
or a .wattprint.json file in the working or home folder; flags win. A .wattprint.json in the working folder may not
set library or root paths (--nvml-library-path, --sysfs-root, ...) nor write outside that folder.`;

/** Builds the `wattprint` program. `setExit` receives the status an action wants to exit with. */
export function buildProgram(io: CliIO, setExit: (code: number) => void): Command {
  const program = new Command('wattprint')
    .description('Measure and estimate the energy and carbon emissions of commands, machines and ML jobs.')
    .version(VERSION, '-V, --version')
    .enablePositionalOptions()
    .showSuggestionAfterError(true)
    .exitOverride()
    .configureOutput({
      writeOut: (s) => io.stdout.write(s),
      writeErr: (s) => io.stderr.write(s),
      // One line per error, named after the tool, as the rest of the CLI prints them.
      outputError: (s, write) => write(`wattprint: ${s.replace(/^error: /, '').replace(/\s*\n(?!$)\s*/g, ' ')}`),
    })
    .addHelpText(
      'after',
      `
Examples:
  $ wattprint run -- python train.py --epochs 3     track a command and its children
  $ wattprint monitor --interval 60                 track the whole machine until Ctrl-C
  $ wattprint detect                                which sources measure what, and how to fix the others
  $ wattprint report emissions.csv --html report.html
  $ wattprint estimate --gpu A100-SXM4-80GB --gpus 8 --hours 24 --country USA

Exit status: 0 ok, 2 usage error; run exits with the command's status (128+N if killed by signal N,
126 not executable, 127 not found). See docs/cli.md.`,
    );

  const run = program
    .command('run')
    .description("run a command, track the energy of its process tree (or the machine) and exit with the command's status")
    .argument('<command...>', 'the command and its arguments (put them after --)')
    .passThroughOptions()
    .option('--machine', 'track the whole machine instead of the process tree')
    .option('-q, --quiet', 'no summary or warnings')
    .option('--status', "live status line on stderr (a terminal); the command's output is then relayed line by line through wattprint")
    .option('--timeline <file>', 'also append one JSON line per sample to this file (power over time for `wattprint report`)');
  addTrackerFlags(run, { trackingMode: true });
  run.addHelpText(
    'after',
    `
The command runs without a shell; its stdin, stdout and stderr are the terminal's. SIGINT, SIGTERM and SIGHUP
are forwarded to it. The CSV (and with --save-to-json the JSONL and report) are written as by the library,
and a summary goes to stderr. With --status, on a terminal, a status line shows power, energy and CO2eq every
second; the command's output is then piped through wattprint so the line is drawn only between its lines.
${ENV_NOTE}

Examples:
  $ wattprint run -- node bench.js
  $ wattprint run --country-iso-code FRA --output-dir out -- python train.py --lr 3e-4
  $ wattprint run --machine --measure-power-secs 5 --save-to-json -- ./render.sh
  $ wattprint run --quiet -- make -j8 && echo "built"

Exit status: the command's; 128+N if a signal N killed it; 126 if it cannot be executed; 127 if not found;
2 for a bad flag or option value.`,
  );
  run.action(async (command: string[], _opts: unknown, cmd: Command) => {
    setExit(await runCommand(command, trackerOptionsFromFlags(cmd), cmd.opts(), io));
  });

  const monitor = program
    .command('monitor')
    .description('track the whole machine until SIGINT/SIGTERM, writing a row every --interval seconds')
    .addOption(new Option('--interval <s>', 'seconds between rows').argParser(positiveNumber).default(60))
    .addOption(new Option('--duration <s>', 'stop by itself after this many seconds').argParser(positiveNumber))
    .option('-q, --quiet', 'print nothing but errors')
    .addOption(new Option('--prometheus <port>', 'also serve Prometheus metrics at http://<host>:<port>/metrics (0: any free port)').argParser(port))
    .option('--host <address>', 'address of the --prometheus endpoint (default 127.0.0.1; 0.0.0.0 for every interface)')
    .option('--timeline <file>', 'also append one JSON line per sample to this file (power over time for `wattprint report`)');
  addTrackerFlags(monitor);
  monitor.addHelpText(
    'after',
    `
Each row holds the totals since the start (CodeCarbon's append mode); the final row is written at exit.
A line per row goes to stdout: the mean power of each component since the previous row, and the totals.
${ENV_NOTE}

Examples:
  $ wattprint monitor
  $ wattprint monitor --interval 300 --country-iso-code DEU --output-dir /var/log/wattprint
  $ wattprint monitor --interval 10 --duration 3600 --quiet
  $ wattprint monitor --prometheus 9464 --host 0.0.0.0 --measure-power-secs 5   a node agent for Prometheus (docs/fleet.md)`,
  );
  monitor.action(async (opts: MonitorFlags, cmd: Command) => {
    setExit(await monitorCommand(trackerOptionsFromFlags(cmd), opts, io));
  });

  const detect = program
    .command('detect')
    .description('show the hardware, the source chosen for each component, why the others were not, and the fix')
    .option('--json', 'print the result as JSON');
  addTrackerFlags(detect, {
    trackingMode: true,
    except: ['projectName', 'experimentId', 'experimentName', 'measurePowerSecs', 'outputDir', 'outputFile', 'onCsvWrite', 'saveToFile', 'saveToJson', 'pue', 'wue'],
  });
  detect.addHelpText(
    'after',
    `
Examples:
  $ wattprint detect
  $ wattprint detect --json | jq '.components.gpu'
  $ wattprint detect --no-native          what the estimates alone would give`,
  );
  detect.action((opts: { json?: boolean }, cmd: Command) => {
    setExit(detectCommand(trackerOptionsFromFlags(cmd), opts, io));
  });

  program
    .command('report')
    .description('summarise emissions.csv, emissions.jsonl, wattprint-report.json or a timeline; --html writes charts')
    .argument('<files...>', 'emissions.csv, emissions.jsonl, wattprint-report.json or a --timeline file; several are read together')
    .option('--html <out.html>', 'also write one self-contained HTML page with SVG charts')
    .addHelpText(
      'after',
      `
The summary gives totals per project and run (one unit per column), the energy split by component with
estimated components marked *, the emissions per kWh, everyday equivalents (km by car, phone charges) and,
for a wattprint-report.json or a timeline with calls, the energy per request. A timeline (run/monitor
--timeline) gives power over time sample by sample. The HTML page needs no network: its charts are inline
SVG (power over time per run, energy and emissions per run, energy per request); estimated components are
dashed or hatched.

Examples:
  $ wattprint report emissions.csv
  $ wattprint report out/emissions.jsonl --html out/report.html
  $ wattprint report out/wattprint-report.json
  $ wattprint report out/emissions.csv out/timeline.jsonl --html out/report.html   power over time from the timeline`,
    )
    .action((files: string[], opts: { html?: string }) => {
      const input = loadReportInputs(files);
      io.stdout.write(`${formatReportText(input)}\n`);
      if (opts.html) {
        const target = resolve(opts.html);
        try {
          writeFileSync(target, renderHtml(input));
        } catch (e) {
          throw new CliError(`cannot write ${opts.html}: ${(e as Error).message}`, EXIT.USAGE);
        }
        io.stderr.write(`wattprint: wrote ${target}\n`);
      }
      setExit(EXIT.OK);
    });

  program
    .command('estimate')
    .description('estimate a job from GPU/CPU power tables, like ML CO2 Impact and Green Algorithms, or a remote LLM API call (--llm)')
    .option('--gpu <model>', "GPU model, e.g. 'H100 SXM', 'A100-SXM4-80GB', 'RTX 4090', 'MI300X'")
    .addOption(new Option('--gpus <n>', 'number of GPUs (default 1)').argParser(positiveInt))
    .addOption(new Option('--hours <h>', 'duration of the job in hours').argParser(number))
    .option('--cpu <model>', "CPU model as in /proc/cpuinfo, e.g. 'AMD EPYC 7763'")
    .addOption(new Option('--cpu-threads <n>', 'threads used, for a CPU not in the table (4 W each)').argParser(positiveInt))
    .addOption(new Option('--cpu-power-w <watts>', 'CPU power to assume (W)').argParser(number))
    .option('--country <iso3>', 'ISO 3166-1 alpha-3 country of the electricity, e.g. FRA')
    .option('--region <region>', "cloud region with --cloud (e.g. 'europe-west1'), else a US state, Canadian province or Nordic zone")
    .addOption(new Option('--cloud <provider>', 'cloud provider').choices(['gcp', 'aws', 'azure']))
    .addOption(new Option('--pue <p>', 'power usage effectiveness (default 1)').argParser(number))
    .addOption(new Option('--intensity <g-per-kwh>', 'grid intensity to use instead of the data').argParser(number))
    .option('--llm <provider/model>', "a remote LLM API call instead of a job, e.g. 'openai/gpt-4o-mini' (EcoLogits method)")
    .addOption(new Option('--output-tokens <n>', 'with --llm: tokens generated').argParser(number))
    .addOption(new Option('--latency <s>', 'with --llm: the request wall time in seconds (caps the generation time)').argParser(number))
    .option('--json', 'print the result as JSON')
    .option('--list-gpus', 'list the GPU table and exit')
    .addHelpText(
      'after',
      `
energy (kWh) = hours × (GPUs × GPU board power + CPU power) × PUE / 1000; emissions = energy × grid intensity.
Every device is assumed to run at its full rated power for the whole time (an upper bound). GPU powers come
from src/cli/data/gpu-tdp.json (ML CO2 Impact, Green Algorithms and vendor datasheets; see its SOURCES.md),
CPU TDPs from CodeCarbon's table, intensities from the offline data of the library.

Examples:
  $ wattprint estimate --gpu 'H100 SXM' --gpus 8 --hours 72 --country USA --region california
  $ wattprint estimate --gpu A100-PCIE-40GB --hours 10 --cpu 'AMD EPYC 7763' --cloud gcp --region europe-west1 --pue 1.1
  $ wattprint estimate --gpu 'RTX 4090' --hours 3 --cpu-threads 16 --country FRA --json
  $ wattprint estimate --list-gpus
  $ wattprint estimate --llm openai/gpt-4o-mini --output-tokens 1000 --latency 10
  $ wattprint estimate --llm mistral/mistral-large-2411 --output-tokens 400 --country FRA --json`,
    )
    .action((opts: EstimateFlags & { listGpus?: boolean; llm?: string; outputTokens?: number; latency?: number }) => {
      if (opts.llm !== undefined) {
        const job = (['gpu', 'gpus', 'hours', 'cpu', 'cpuThreads', 'cpuPowerW', 'region', 'cloud', 'intensity'] as const).filter((k) => opts[k] !== undefined);
        if (job.length) throw new CliError(`--llm estimates one API call: ${job.map((k) => `--${k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`).join(', ')} do not apply (use --country and --pue for the data centre)`);
        setExit(estimateLlmCommand({ ...opts, llm: opts.llm }, io));
        return;
      }
      if (opts.outputTokens !== undefined || opts.latency !== undefined) throw new CliError('--output-tokens and --latency need --llm <provider/model>');
      if (opts.listGpus) {
        io.stdout.write(`${formatGpuList()}\n`);
        setExit(EXIT.OK);
        return;
      }
      setExit(estimateCommand(opts, io));
    });

  return program;
}

/** Runs the CLI on `argv` (without node and the script) and returns the exit status. */
export async function main(argv: readonly string[], io: CliIO = processIO): Promise<number> {
  let code: number = EXIT.OK;
  const program = buildProgram(io, (c) => (code = c));
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return code;
  } catch (error) {
    if (error instanceof CommanderError) {
      // --help and --version end through exitOverride too, with exit code 0.
      return error.exitCode === 0 ? EXIT.OK : EXIT.USAGE;
    }
    io.stderr.write(`wattprint: ${oneLine(error)}\n`);
    return exitCodeOf(error);
  }
}
