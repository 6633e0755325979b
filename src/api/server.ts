import { serve } from '@hono/node-server';
import type { Hono } from 'hono';

/** Listens on `host:port` (port 0 picks a free one) and resolves with the bound port and a closer. */
export function listen(app: Hono, host: string, port: number): Promise<{ port: number; close(): Promise<void> }> {
  return new Promise((resolve, reject) => {
    const server = serve({ fetch: app.fetch, hostname: host, port }, (info) => {
      resolve({
        port: info.port,
        close: () =>
          new Promise<void>((done) => {
            // Long polls would hold close() open: end idle and active connections.
            (server as unknown as { closeAllConnections?: () => void }).closeAllConnections?.();
            server.close(() => done());
          }),
      });
    });
    server.once('error', reject);
  });
}
