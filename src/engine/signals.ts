/**
 * In-process wake-ups: a long poll waits on a topic (`center:<id>` for an agent's leases, `job:<id>`
 * for a job's state and output, `tick` for the control loop) and whoever changes that thing wakes it.
 * Waiters also time out, and callers re-read the database after any wake-up, so a signal lost to
 * another control-plane process only delays a reply, never changes it.
 */
export class Signals {
  readonly #waiters = new Map<string, Set<() => void>>();

  /** Wakes everyone waiting on `topic`. */
  wake(topic: string): void {
    const set = this.#waiters.get(topic);
    if (!set) return;
    this.#waiters.delete(topic);
    for (const resolve of set) resolve();
  }

  /** Resolves on the next wake of `topic`, after `ms`, or when `signal` aborts, whichever is first. */
  wait(topic: string, ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      let set = this.#waiters.get(topic);
      if (!set) this.#waiters.set(topic, (set = new Set()));
      const done = (): void => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', done);
        this.#waiters.get(topic)?.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      signal?.addEventListener('abort', done, { once: true });
      set.add(done);
    });
  }
}
