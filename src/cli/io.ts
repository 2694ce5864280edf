/** The streams a command writes to; injectable so the formatting can be tested in-process. */
export interface CliIO {
  readonly stdout: { write(chunk: string): boolean; readonly isTTY?: boolean };
  readonly stderr: { write(chunk: string): boolean; readonly isTTY?: boolean; readonly columns?: number };
}

export const processIO: CliIO = { stdout: process.stdout, stderr: process.stderr };
