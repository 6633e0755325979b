import { serve } from '@hono/node-server';
import type { Hono } from 'hono';

/**
 * Listens on `host:port` (port 0 picks a free one) and resolves with the bound port and a closer.
 * close() ends every connection (long polls included), then waits for the handlers still running
 * (at most `drainMs`), so the store can be closed after it without a request finding it gone.
 */
export function listen(app: Hono, host: string, port: number, drainMs = 5_000): Promise<{ port: number; close(): Promise<void> }> {
  let inFlight = 0;
  let drained: (() => void) | null = null;
  const fetch = async (request: Request, ...rest: unknown[]): Promise<Response> => {
    inFlight++;
    try {
      return await (app.fetch as (r: Request, ...x: unknown[]) => Response | Promise<Response>)(request, ...rest);
    } finally {
      if (--inFlight === 0) drained?.();
    }
  };
  return new Promise((resolve, reject) => {
    const server = serve({ fetch, hostname: host, port }, (info) => {
      resolve({
        port: info.port,
        close: async () => {
          await new Promise<void>((done) => {
            // Long polls would hold close() open: end idle and active connections.
            (server as unknown as { closeAllConnections?: () => void }).closeAllConnections?.();
            server.close(() => done());
          });
          if (inFlight > 0) {
            await new Promise<void>((done) => {
              const timer = setTimeout(done, drainMs);
              drained = () => {
                clearTimeout(timer);
                done();
              };
            });
          }
        },
      });
    });
    server.once('error', reject);
  });
}
