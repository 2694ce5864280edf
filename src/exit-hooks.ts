/**
 * One set of process listeners for every running tracker, so that many trackers (a decorated
 * method called concurrently) never pile up listeners: SIGINT/SIGTERM/SIGHUP and 'exit' run each
 * registered finaliser synchronously, then a signal is re-raised when nobody else handles it, so
 * the process still dies of it as it would without wattprint.
 */
const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
const hooks = new Set<() => void>();

function runAll(): void {
  for (const hook of [...hooks]) {
    try {
      hook();
    } catch {
      // A finaliser must not stop the others; each tracker reports its own faults.
    }
  }
}

function onSignal(signal: NodeJS.Signals): void {
  runAll();
  uninstall();
  if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
}

const signalListeners = new Map(SIGNALS.map((s) => [s, () => onSignal(s)] as const));

function install(): void {
  for (const [s, l] of signalListeners) process.on(s, l);
  process.on('exit', runAll);
}

function uninstall(): void {
  for (const [s, l] of signalListeners) process.off(s, l);
  process.off('exit', runAll);
}

/** Runs `finalise` at exit or on a terminating signal; returns the function that unregisters it. */
export function onProcessEnd(finalise: () => void): () => void {
  if (hooks.size === 0) install();
  hooks.add(finalise);
  return () => {
    if (hooks.delete(finalise) && hooks.size === 0) uninstall();
  };
}
