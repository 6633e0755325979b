import { readFile, stat } from 'node:fs/promises';
import { extname, join, normalize, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Hono } from 'hono';

/**
 * Serves the built web portal (web/dist, made by `npm run build:web`) at `/`: its files as they are,
 * `index.html` for any other GET that is not under /v1 or /metrics (the portal's own routes such as
 * /jobs/job_… are drawn in the browser), hashed assets with a year-long immutable cache. When the
 * portal is not built, `/` says how to build it instead of a bare 404.
 */

/** web/dist of this checkout: from src/api (tsx) or dist/api (compiled), both two levels below the root. */
export const DEFAULT_PORTAL_DIR = resolve(fileURLToPath(new URL('../../web/dist', import.meta.url)));

const TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.txt': 'text/plain; charset=utf-8',
};

/** Paths the portal never answers: the API's own (their 404 stays a JSON error). */
const API_PREFIXES = ['/v1/', '/metrics', '/healthz', '/readyz'];

/** Mounts the portal's GET handler on `app`; call it after the API routes. */
export function mountPortal(app: Hono, dir: string = DEFAULT_PORTAL_DIR): void {
  const root = resolve(dir);
  app.get('*', async (c, next) => {
    const path = c.req.path;
    if (path === '/v1' || API_PREFIXES.some((p) => path.startsWith(p))) return next();
    c.set('routePattern', '/*portal');
    const index = join(root, 'index.html');
    if (!(await isFile(index))) {
      return c.text(
        'The Suanwang web portal is not built in this checkout.\n' +
          'Build it with `npm run build:web` (or `npm run build`), then reload this page.\n' +
          'The API is at /v1 (its document: /v1/openapi.json).\n',
        404,
      );
    }
    let decoded: string;
    try {
      decoded = decodeURIComponent(path);
    } catch {
      return next();
    }
    // normalize() resolves `..`; the prefix check keeps every read inside the portal's folder.
    const file = normalize(join(root, decoded));
    if (file.startsWith(root + sep) && !decoded.includes('\0') && (await isFile(file))) {
      const hashed = decoded.startsWith('/assets/');
      return c.body(await readFile(file), 200, {
        'content-type': TYPES[extname(file)] ?? 'application/octet-stream',
        'cache-control': hashed ? 'public, max-age=31536000, immutable' : 'no-cache',
        'x-content-type-options': 'nosniff',
      });
    }
    // A missing asset is a 404, not the page: a stale bundle must fail loudly, not parse HTML as JS.
    if (decoded.startsWith('/assets/')) return next();
    return c.body(await readFile(index), 200, { 'content-type': TYPES['.html']!, 'cache-control': 'no-cache' });
  });
}

async function isFile(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}
