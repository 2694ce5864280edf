import type { EmissionsData, ReportContext, Reporter } from '../types.js';
import { invalidOption } from '../errors.js';

/**
 * A reporter (id `'callback'`) that hands every result to `fn`. `fn` may be async: the tracker
 * awaits it, and a throw or rejection becomes an 'error' event without stopping tracking.
 *
 * @example
 * new EmissionsTracker({ reporters: [callbackReporter((d, ctx) => console.log(ctx.phase, d.emissionsKg))] });
 */
export function callbackReporter(fn: (data: EmissionsData, context: ReportContext) => void | Promise<void>): Reporter {
  if (typeof fn !== 'function') {
    throw invalidOption('reporters', `callbackReporter(fn) needs a function, got ${fn === null ? 'null' : typeof fn}.`);
  }
  return {
    id: 'callback',
    report: (data, context) => fn(data, context),
  };
}
