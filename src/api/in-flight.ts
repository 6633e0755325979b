import type { Context, MiddlewareHandler } from 'hono';

/** What @hono/node-server puts in `c.env`: the Node request, whose socket a shutdown may end. */
interface NodeBindings {
  readonly incoming?: { readonly socket?: { destroy(): void } };
}

/**
 * Counts the requests being handled, so a shutdown can wait for them before it closes the store
 * (a handler still querying a destroyed store is what printed `driver has already been destroyed`),
 * and ends the long polls among them, which would otherwise hold the shutdown for their whole wait.
 */
export class InFlight {
  readonly #requests = new Set<Context>();
  readonly #idle = new Set<() => void>();

  /** Requests whose handler has not finished yet. */
  get count(): number {
    return this.#requests.size;
  }

  /** Hono middleware: counts a request from its start until its handler (and error handler) finished. */
  middleware(): MiddlewareHandler {
    return async (c, next) => {
      this.#requests.add(c);
      try {
        await next();
      } finally {
        this.#requests.delete(c);
        if (this.#requests.size === 0) for (const wake of [...this.#idle]) wake();
      }
    };
  }

  /**
   * Ends the connections of the long polls in flight (requests with `waitMs`: agents' lease polls,
   * log follows). Their request signal aborts, so their handler stops waiting and returns at once;
   * the client retries (against another replica, or once this one is back). Other requests are left
   * to finish. Only requests served through @hono/node-server have a connection to end.
   */
  endLongPolls(): number {
    let ended = 0;
    for (const c of this.#requests) {
      if (c.req.query('waitMs') === undefined) continue;
      const socket = (c.env as NodeBindings | undefined)?.incoming?.socket;
      if (socket) {
        socket.destroy();
        ended++;
      }
    }
    return ended;
  }

  /** Resolves true once no request is in flight, or false after `timeoutMs` with some still running. */
  idle(timeoutMs: number): Promise<boolean> {
    if (this.#requests.size === 0) return Promise.resolve(true);
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
