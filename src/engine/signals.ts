import type { DedicatedConnection } from '../store/dedicated-connection.js';
import type { Store } from '../store/open-database.js';

/**
 * Wake-ups: a long poll waits on a topic (`center:<id>` for an agent's leases, `job:<id>` for a job's
 * state and output, `tick` for the control loop) and whoever changes that thing wakes it. On
 * PostgreSQL every wake is also sent to the other control-plane processes (NOTIFY on
 * `suanwang_wake`, see `bridgeSignals`), so an agent's long poll held by one replica wakes when
 * another replica places its work. Waiters also time out, and callers re-read the database after
 * any wake-up, so a lost signal only delays a reply, never changes it.
 */
export class Signals {
  readonly #waiters = new Map<string, Set<() => void>>();
  readonly #listeners = new Map<string, Set<() => void>>();
  #remote: ((topic: string) => void) | null = null;

  /** Wakes everyone waiting on `topic`, here and (when bridged) in the other control-plane processes. */
  wake(topic: string): void {
    this.wakeLocal(topic);
    this.#remote?.(topic);
  }

  /** Wakes the waiters of `topic` in this process only (what a NOTIFY from another process does). */
  wakeLocal(topic: string): void {
    for (const listen of this.#listeners.get(topic) ?? []) listen();
    const set = this.#waiters.get(topic);
    if (!set) return;
    this.#waiters.delete(topic);
    for (const resolve of set) resolve();
  }

  /** Wakes every waiter of this process: after wake-ups may have been missed (a reconnect). */
  wakeAll(): void {
    for (const topic of new Set([...this.#waiters.keys(), ...this.#listeners.keys()])) this.wakeLocal(topic);
  }

  /** Calls `listen` on every wake of `topic` (and on `wakeAll`) until the returned function is called. */
  on(topic: string, listen: () => void): () => void {
    let set = this.#listeners.get(topic);
    if (!set) this.#listeners.set(topic, (set = new Set()));
    set.add(listen);
    return () => {
      set.delete(listen);
    };
  }

  /** Resolves on the next wake of `topic`, after `ms`, or when `signal` aborts, whichever is first. */
  wait(topic: string, ms: number, signal?: AbortSignal): Promise<void> {
    return this.arm(topic, ms, signal).woken;
  }

  /**
   * Starts waiting now and returns the wait: arm before reading the database, then await `woken`
   * only if the read found nothing, so a wake that comes during the read is not missed. `cancel`
   * when it is not needed (it clears the timer).
   */
  arm(topic: string, ms: number, signal?: AbortSignal): { readonly woken: Promise<void>; cancel(): void } {
    let done = (): void => {};
    const woken = new Promise<void>((resolve) => {
      let set = this.#waiters.get(topic);
      if (!set) this.#waiters.set(topic, (set = new Set()));
      done = (): void => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', done);
        this.#waiters.get(topic)?.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      signal?.addEventListener('abort', done, { once: true });
      set.add(done);
    });
    return { woken, cancel: () => done() };
  }

  /** Sends every local wake to `send` too (the bridge), or stops doing so (null). */
  setRemote(send: ((topic: string) => void) | null): void {
    this.#remote = send;
  }
}

/** The PostgreSQL channel that carries wake-ups between control-plane processes; the payload is the topic. */
export const WAKE_CHANNEL = 'suanwang_wake';

/**
 * Bridges `signals` across every control-plane process on this PostgreSQL: LISTENs on a dedicated
 * connection and wakes local waiters on each NOTIFY from another process; sends local wakes as
 * NOTIFY, batched per turn of the event loop (one statement however many topics). Every wake call
 * sits after its transaction commits, so the other processes' re-reads see the change. A broken
 * connection is reopened every `retryMs`, and everyone here is woken then, since wake-ups may have
 * been missed meanwhile. A no-op on PGlite (one process). Returns the function that stops it.
 */
export async function bridgeSignals(store: Store, signals: Signals, log: (line: string) => void = () => {}, retryMs = 1_000): Promise<{ stop(): Promise<void> }> {
  if (!store.dedicated) return { stop: async () => {} };
  const open = store.dedicated;
  let stopped = false;
  let conn: DedicatedConnection | null = null;
  let ownPid = -1;
  let pending = new Set<string>();
  let flushing = false;

  const flush = async (): Promise<void> => {
    flushing = false;
    const topics = [...pending];
    pending = new Set();
    if (!conn || topics.length === 0) return;
    // Lost when the connection is down: waiters elsewhere time out and re-read, or wake on reconnect.
    await conn.query(`SELECT pg_notify('${WAKE_CHANNEL}', t) FROM unnest($1::text[]) AS t`, [topics]).catch(() => {});
  };
  signals.setRemote((topic) => {
    if (!conn) return;
    pending.add(topic);
    if (!flushing) {
      flushing = true;
      setImmediate(() => void flush());
    }
  });

  const connect = async (): Promise<boolean> => {
    let c: DedicatedConnection | null = null;
    try {
      c = await open();
      c.onNotification((channel, payload, senderPid) => {
        // Our own NOTIFYs come back too; their local waiters were woken already.
        if (channel === WAKE_CHANNEL && senderPid !== ownPid) signals.wakeLocal(payload);
      });
      ownPid = (await c.query<{ pid: number }>('SELECT pg_backend_pid() AS pid'))[0]!.pid;
      await c.query(`LISTEN ${WAKE_CHANNEL}`);
      if (stopped) {
        await c.close();
        return false;
      }
      conn = c;
      signals.wakeAll();
      void c.ended.then((why) => {
        if (conn !== c) return;
        conn = null;
        if (!stopped) {
          log(`wake-up channel lost (${why}); reconnecting`);
          void keepConnected();
        }
      });
      return true;
    } catch (error) {
      await c?.close();
      log(`cannot listen for wake-ups yet (${(error as Error).message}); retrying`);
      return false;
    }
  };
  let retry: NodeJS.Timeout | null = null;
  let wakeRetry: () => void = () => {};
  const keepConnected = async (): Promise<void> => {
    while (!stopped && !(await connect())) {
      await new Promise<void>((resolve) => {
        wakeRetry = resolve;
        retry = setTimeout(resolve, retryMs);
      });
    }
  };
  await keepConnected();
  return {
    async stop() {
      stopped = true;
      signals.setRemote(null);
      if (retry) clearTimeout(retry);
      wakeRetry();
      await flush();
      const c = conn;
      conn = null;
      await c?.close();
    },
  };
}
