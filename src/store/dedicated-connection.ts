import pg from 'pg';

/**
 * One PostgreSQL connection of its own, outside the pool: what session-level state needs (an
 * advisory lock held as long as the connection lives, LISTEN). When the connection dies, PostgreSQL
 * releases its locks and forgets its LISTENs; `ended` resolves so the holder can act on it.
 */
export interface DedicatedConnection {
  /** Runs one statement with parameters; rejects when the connection is gone. */
  query<R extends object = Record<string, unknown>>(text: string, params?: readonly unknown[]): Promise<R[]>;
  /** Calls `fn` for every NOTIFY on a channel this connection LISTENs to, with the sender's backend pid. */
  onNotification(fn: (channel: string, payload: string, senderPid: number) => void): void;
  /** Resolves once the connection is closed or broken, with the reason. */
  readonly ended: Promise<string>;
  close(): Promise<void>;
}

/**
 * Opens a dedicated connection to `url`. `queryTimeoutMs` bounds every statement, so a connection
 * that silently stopped answering (a partition) is noticed and closed instead of hanging its holder.
 */
export async function openDedicatedConnection(url: string, queryTimeoutMs = 5_000): Promise<DedicatedConnection> {
  const client = new pg.Client({ connectionString: url, query_timeout: queryTimeoutMs, keepAlive: true });
  let endedWith: (why: string) => void = () => {};
  const ended = new Promise<string>((resolve) => (endedWith = resolve));
  // Unheard, a broken connection's 'error' would crash the process; it ends the connection instead.
  client.on('error', (error) => {
    endedWith(error.message);
    void client.end().catch(() => {});
  });
  client.on('end', () => endedWith('connection closed'));
  await client.connect();
  return {
    async query<R extends object>(text: string, params: readonly unknown[] = []) {
      try {
        return (await client.query(text, params as unknown[])).rows as R[];
      } catch (error) {
        // A timed-out statement leaves the connection in an unknown state: drop it.
        if (/timeout/i.test((error as Error).message)) {
          endedWith((error as Error).message);
          void client.end().catch(() => {});
        }
        throw error;
      }
    },
    onNotification(fn) {
      client.on('notification', (m) => fn(m.channel, m.payload ?? '', m.processId));
    },
    ended,
    async close() {
      endedWith('closed');
      await client.end().catch(() => {});
    },
  };
}
