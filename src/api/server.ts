import { serve } from '@hono/node-server';
import type { Hono } from 'hono';
import { appDrain } from './app.js';

/** How long `close()` lets in-flight requests finish, by default, before cutting their connections. */
export const DRAIN_TIMEOUT_MS = 10_000;

/**
 * Listens on `host:port` (port 0 picks a free one) and resolves with the bound port and a closer.
 * `close()` shuts down in order: stop accepting connections, close idle keep-alive ones, end the
 * long polls and wait (up to `drainMs`) for every other in-flight request's handler to finish, then
 * cut what is left. When it resolves no handler of this app is running (unless one outlived
 * `drainMs`), so the caller may close the store.
 */
export function listen(app: Hono, host: string, port: number, drainMs = DRAIN_TIMEOUT_MS): Promise<{ port: number; close(): Promise<void> }> {
  return new Promise((resolve, reject) => {
    const server = serve({ fetch: app.fetch, hostname: host, port }, (info) => {
      let closing: Promise<void> | undefined;
      resolve({
        port: info.port,
        close: () =>
          (closing ??= (async () => {
            const http = server as unknown as { closeIdleConnections?: () => void; closeAllConnections?: () => void };
            const closed = new Promise<void>((done) => server.close(() => done()));
            http.closeIdleConnections?.();
            await appDrain(app)?.(drainMs);
            // Answered requests leave keep-alive connections open; a handler past the timeout is cut.
            http.closeAllConnections?.();
            await closed;
          })()),
      });
    });
    server.once('error', reject);
  });
}
