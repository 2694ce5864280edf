#!/usr/bin/env node
import { main } from './program.js';

// process.exit rather than exitCode: a library handle left open (a native NVML poller) must not
// keep the CLI alive once its outputs are flushed; stdout/stderr writes are synchronous on Linux
// for files and pipes, so nothing printed is lost.
main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`wattprint: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  },
);
