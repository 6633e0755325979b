import type { DedicatedConnection } from '../store/dedicated-connection.js';
import type { Store } from '../store/open-database.js';

// Any constant works; it only has to be the same in every control-plane process (and differ from
// the migration and scheduling-pass locks).
const LEADER_LOCK = 7261003;

/**
 * Which control-plane process runs the control loop. Every replica serves the API; one leads.
 *
 * PostgreSQL: the leader holds a session-level `pg_advisory_lock` on a dedicated connection. It is
 * held as long as that connection lives, so a leader that dies (even by SIGKILL) loses it as soon as
 * PostgreSQL notices the connection gone, and a follower, trying `pg_try_advisory_lock` every
 * `retryMs`, takes over. The leader checks its connection at the same pace: a leader that lost it
 * stops leading at once (the lock is gone with it). PGlite is one process: it always leads.
 */
export interface Leadership {
  /** True while this process holds the lock. */
  readonly isLeader: boolean;
  /** Resolves on the next change of `isLeader`, after `ms`, or when `signal` aborts. */
  changed(ms: number, signal?: AbortSignal): Promise<void>;
  /** Gives the lock up (closing its connection) and stops trying. */
  stop(): Promise<void>;
}

export interface LeadershipOptions {
  /** How often a follower tries the lock and a leader checks its connection. Default 1000 ms. */
  readonly retryMs?: number;
  /** Called with true when this process starts leading, false when it stops (or finds another leading at start). */
  readonly onChange?: (leading: boolean) => void;
  readonly log?: (line: string) => void;
}

/** Starts contending for leadership (or, on PGlite, leads at once). */
export function startLeadership(store: Store, options: LeadershipOptions = {}): Leadership {
  const retryMs = options.retryMs ?? 1_000;
  const log = options.log ?? (() => {});
  let leader = false;
  let stopped = false;
  // A follower says so once, after its first try.
  let announced = false;
  let conn: DedicatedConnection | null = null;
  let listeners = new Set<() => void>();
  let sleeper: { timer: NodeJS.Timeout; resolve: () => void } | null = null;

  const set = (leading: boolean): void => {
    if (leader === leading) return;
    leader = leading;
    options.onChange?.(leading);
    const woken = listeners;
    listeners = new Set();
    for (const f of woken) f();
  };
  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      sleeper = { timer: setTimeout(resolve, ms), resolve };
    });
  const drop = async (why: string): Promise<void> => {
    const c = conn;
    conn = null;
    if (leader && !stopped) log(`leadership lost: ${why}`);
    set(false);
    await c?.close();
  };

  const open = store.dedicated;
  const done = (async () => {
    if (!open) {
      set(true);
      return;
    }
    while (!stopped) {
      try {
        if (!conn) {
          conn = await open();
          const c = conn;
          void c.ended.then((why) => {
            if (conn === c) void drop(`its database connection ended (${why})`);
          });
        }
        if (!leader) {
          const rows = await conn.query<{ ok: boolean }>('SELECT pg_try_advisory_lock($1) AS ok', [LEADER_LOCK]);
          if (rows[0]?.ok && !stopped) set(true);
          else if (!announced) options.onChange?.(false);
          announced = true;
        } else {
          await conn.query('SELECT 1');
        }
      } catch (error) {
        await drop(`cannot reach the database (${(error as Error).message})`);
      }
      if (!stopped) await sleep(retryMs);
    }
  })();

  return {
    get isLeader() {
      return leader;
    },
    changed(ms, signal) {
      return new Promise<void>((resolve) => {
        const finish = (): void => {
          clearTimeout(timer);
          signal?.removeEventListener('abort', finish);
          listeners.delete(finish);
          resolve();
        };
        const timer = setTimeout(finish, ms);
        signal?.addEventListener('abort', finish, { once: true });
        listeners.add(finish);
      });
    },
    async stop() {
      stopped = true;
      if (sleeper) {
        clearTimeout(sleeper.timer);
        sleeper.resolve();
      }
      await done;
      // Closing the session releases the lock: a follower takes over on its next try.
      await drop('stopped');
    },
  };
}
