import type { MiddlewareHandler } from 'hono';

/**
 * Counts the requests being handled, so a shutdown can wait for them before it closes the store
 * (a handler still querying a destroyed store is what printed `driver has already been destroyed`).
 */
export class InFlight {
  #count = 0;
  #idle = new Set<() => void>();

  /** Requests whose handler has not finished yet. */
  get count(): number {
    return this.#count;
  }

  /** Hono middleware: counts a request from its start until its handler (and error handler) finished. */
  middleware(): MiddlewareHandler {
    return async (_c, next) => {
      this.#count++;
      try {
        await next();
      } finally {
        this.#count--;
        if (this.#count === 0) for (const wake of [...this.#idle]) wake();
      }
    };
  }

  /** Resolves true once no request is in flight, or false after `timeoutMs` with some still running. */
  idle(timeoutMs: number): Promise<boolean> {
    if (this.#count === 0) return Promise.resolve(true);
    return new Promise((resolve) => {
      const done = (ok: boolean) => () => {
        clearTimeout(timer);
        this.#idle.delete(onIdle);
        resolve(ok);
      };
      const onIdle = done(true);
      const timer = setTimeout(done(false), timeoutMs);
      this.#idle.add(onIdle);
    });
  }
}
