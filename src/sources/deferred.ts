import type { PowerSource, ProbeResult } from '../types.js';

type Failure = Extract<ProbeResult, { ok: false }>;

/**
 * A built-in source whose code loads on first use (a lazy chunk of the build): `probe()` first
 * asks `absent()`, a check of the files the hardware leaves that costs a stat or two, and answers
 * its failure without loading anything; otherwise, and on any other call, the real source is built
 * by `load()` and every member is forwarded to it. A machine without the hardware never compiles
 * the code that reads it (issue 11, start-up). `extras` gives the read-only members beyond
 * {@link PowerSource}'s own (boundary notes, health), forwarded too, with their values before load.
 */
export function deferredSource<S extends PowerSource>(
  head: Pick<S, 'id' | 'component' | 'kind' | 'scope'>,
  absent: () => Failure | undefined,
  load: () => S,
  extras: { [K in Exclude<keyof S, keyof PowerSource>]?: S[K] } = {},
): S {
  let real: S | undefined;
  const source = (): S => (real ??= load());
  const deferred: PowerSource = {
    id: head.id,
    component: head.component,
    kind: head.kind,
    get scope() {
      return real?.scope ?? head.scope;
    },
    get maxReadIntervalMs() {
      return real?.maxReadIntervalMs;
    },
    get idlePowerW() {
      return real?.idlePowerW;
    },
    probe: () => (real === undefined ? absent() : undefined) ?? source().probe(),
    start: () => source().start(),
    read: () => source().read(),
    close: () => real?.close?.(),
  };
  for (const name of Object.keys(extras) as (keyof typeof extras & keyof S)[]) {
    Object.defineProperty(deferred, name, { enumerable: true, get: () => (real === undefined ? extras[name] : real[name]) });
  }
  return deferred as S;
}
