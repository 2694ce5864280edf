import { AsyncLocalStorage, createHook, type AsyncHook } from 'node:async_hooks';

/** Something that accumulates main-thread time: a call in flight. */
export interface WorkOwner {
  /** Main-thread ms run in its own async context since the last interval drained it. */
  workMs: number;
}

/**
 * Measures the main-thread time each call spends running its own code, following the call across
 * awaits. The call's state is the store of an AsyncLocalStorage entered when the call starts, so
 * every callback and promise continuation it schedules inherits it. An async hook's `before` and
 * `after` (no `init`: AsyncLocalStorage already propagates) switch the current owner; at each switch
 * the time since the previous switch goes to the owner that was running. One `performance.now()`
 * per switch, and none between callbacks that no call owns.
 *
 * Time no call owns (HTTP parsing before a handler is called, other libraries' timers, GC outside
 * calls, the tracker itself) is not counted here; it is what the attribution reports as
 * unattributed.
 */
export class WorkMeter<O extends WorkOwner> {
  private readonly als = new AsyncLocalStorage<O>();
  private hook: AsyncHook | undefined;
  private cur: O | undefined = undefined;
  private sinceMs = 0;
  private readonly stack: Array<O | undefined> = [];

  enable(): void {
    this.hook ??= createHook({ before: this.before, after: this.after });
    this.hook.enable();
  }

  disable(): void {
    this.hook?.disable();
    this.switchTo(undefined);
    this.stack.length = 0;
  }

  /** Runs `fn` (the call's synchronous part) as `owner`, and everything it schedules too. */
  run<T>(owner: O, fn: () => T): T {
    const prev = this.cur;
    this.switchTo(owner);
    try {
      return this.als.run(owner, fn);
    } finally {
      this.switchTo(prev);
    }
  }

  /** Runs `fn` charged to nobody, and what it schedules (timers) outside any call's context. */
  outside<T>(fn: () => T): T {
    const prev = this.cur;
    this.switchTo(undefined);
    try {
      return this.als.exit(fn);
    } finally {
      this.switchTo(prev);
    }
  }

  /** Charges the running owner up to now, so its `workMs` is current. */
  flush(): void {
    if (this.cur === undefined) return;
    const t = performance.now();
    this.cur.workMs += t - this.sinceMs;
    this.sinceMs = t;
  }

  private switchTo(next: O | undefined): void {
    const cur = this.cur;
    if (cur === next) return;
    const t = performance.now();
    if (cur !== undefined) cur.workMs += t - this.sinceMs;
    this.sinceMs = t;
    this.cur = next;
  }

  private readonly before = (): void => {
    this.stack.push(this.cur);
    const next = this.als.getStore();
    if (next !== this.cur) this.switchTo(next);
  };

  private readonly after = (): void => {
    // Empty when the hook was enabled inside a callback: that callback's owner is the one in force.
    const prev = this.stack.length > 0 ? this.stack.pop() : undefined;
    if (prev !== this.cur) this.switchTo(prev);
  };
}
