/**
 * One set of process listeners for every running tracker, so that many trackers (a decorated
 * method called concurrently) never pile up listeners.
 *
 * Shutdown belongs to the application: on SIGINT/SIGTERM/SIGHUP wattprint finalises and re-raises
 * the signal only when no other listener handles it at the moment it arrived; otherwise it does
 * nothing then and lets the application end the process, its 'exit' hook writing the final rows.
 * It never touches `process.exitCode`.
 */
const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
type Signal = (typeof SIGNALS)[number];

/** Marks our listeners, so that two copies of wattprint (ESM and CJS) never count each other as the app. */
const MARK = Symbol.for('wattprint.exitHook');
type Marked = ((...args: unknown[]) => void) & { [MARK]?: true };

const signalHooks = new Set<() => void>();
const exitHooks = new Set<() => void>();
let ending = false;
let reordering = false;

function runAll(): void {
  ending = true;
  for (const hook of [...signalHooks, ...exitHooks]) {
    try {
      hook();
    } catch {
      // A finaliser must not stop the others; each tracker reports its own faults.
    }
  }
}

function othersHandle(signal: Signal): boolean {
  return process.rawListeners(signal).some((l) => !(l as Marked)[MARK]);
}

function onSignal(signal: Signal): void {
  // Our listener runs first (see keepFirst), so `once` listeners of the app are still registered.
  if (othersHandle(signal)) return;
  runAll();
  uninstallSignals();
  process.kill(process.pid, signal);
}

const signalListeners = new Map(
  SIGNALS.map((s) => {
    const l: Marked = () => onSignal(s);
    l[MARK] = true;
    return [s, l] as const;
  }),
);

/** Moves our listener back in front when the app adds one (prependListener included) after it. */
const keepFirst: Marked = (event: unknown) => {
  if (reordering || !signalListeners.has(event as Signal)) return;
  queueMicrotask(() => {
    const l = signalListeners.get(event as Signal)!;
    if (!process.rawListeners(event as Signal).includes(l)) return;
    reordering = true;
    try {
      process.off(event as Signal, l);
      process.prependListener(event as Signal, l);
    } finally {
      reordering = false;
    }
  });
};
keepFirst[MARK] = true;

const exitListener: Marked = () => runAll();
exitListener[MARK] = true;

let signalsInstalled = false;
let exitInstalled = false;

function installSignals(): void {
  if (signalsInstalled) return;
  signalsInstalled = true;
  for (const [s, l] of signalListeners) process.prependListener(s, l);
  process.on('newListener', keepFirst);
}

function uninstallSignals(): void {
  if (!signalsInstalled) return;
  signalsInstalled = false;
  for (const [s, l] of signalListeners) process.off(s, l);
  process.off('newListener', keepFirst);
}

function sync(): void {
  if (signalHooks.size === 0) uninstallSignals();
  else installSignals();
  const wantExit = signalHooks.size + exitHooks.size > 0;
  if (wantExit && !exitInstalled) process.on('exit', exitListener);
  if (!wantExit && exitInstalled) process.off('exit', exitListener);
  exitInstalled = wantExit;
}

/**
 * Runs `finalise` at exit, and on a terminating signal that nobody else handles; returns the
 * function that unregisters it. In a worker thread, 'exit' fires when the worker ends.
 */
export function onProcessEnd(finalise: () => void): () => void {
  signalHooks.add(finalise);
  sync();
  return () => {
    if (signalHooks.delete(finalise)) sync();
  };
}

/**
 * Runs `finalise` at exit (and with the others when wattprint finalises on a signal), without
 * installing signal listeners of its own: for work that must complete, such as a row waiting for
 * a file lock.
 */
export function onExit(finalise: () => void): () => void {
  exitHooks.add(finalise);
  sync();
  return () => {
    if (exitHooks.delete(finalise)) sync();
  };
}

/**
 * True once the process is ending (exit or an unhandled terminating signal): writers must finish
 * synchronously. Node sets `process._exiting` before emitting 'exit', which also covers the app's
 * own 'exit' listeners that run before ours.
 */
export function processEnding(): boolean {
  return ending || (process as { _exiting?: boolean })._exiting === true;
}
