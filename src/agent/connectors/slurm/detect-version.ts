import { SlurmApiV0038 } from './adapter-v0038.js';
import type { SlurmApi } from './slurm-api.js';
import { SlurmApiError, isSlurmApiError } from './slurm-api.js';
import type { SlurmHttp } from './slurm-http.js';

/**
 * The adapters we have, by the OpenAPI version they speak. A new slurmrestd version is one more entry
 * here and one more adapter file; nothing else changes.
 */
export const SLURM_ADAPTERS: Readonly<Record<string, (http: SlurmHttp) => SlurmApi>> = {
  'v0.0.38': (http) => new SlurmApiV0038(http),
};

/** Where slurmrestd publishes its OpenAPI document: `/openapi/v3` from 20.11 on, `/openapi` before. */
const DOCUMENTS = ['/openapi/v3', '/openapi'] as const;
const SLURM_PATH = /^\/slurm\/(v\d+\.\d+\.\d+)\//;

/** The `vX.Y.Z` versions of the `/slurm/…` paths in an OpenAPI document, newest first. */
export function offeredVersions(document: unknown): string[] {
  const paths = typeof document === 'object' && document !== null ? (document as { paths?: unknown }).paths : undefined;
  if (typeof paths !== 'object' || paths === null) return [];
  const versions = new Set<string>();
  for (const path of Object.keys(paths)) {
    const match = SLURM_PATH.exec(path);
    if (match?.[1]) versions.add(match[1]);
  }
  return [...versions].sort(compareVersions).reverse();
}

/** The newest version both offered and adapted, or null. */
export function pickVersion(offered: readonly string[], adapted: readonly string[] = Object.keys(SLURM_ADAPTERS)): string | null {
  const have = new Set(adapted);
  return [...offered].sort(compareVersions).reverse().find((v) => have.has(v)) ?? null;
}

/**
 * Asks slurmrestd which OpenAPI versions it offers (from its OpenAPI document; the document's own
 * `info.version` names only one of the loaded plugins, so the paths are what counts) and returns the
 * adapter for the newest one we have. When no document can be had, probes each adapter's ping path.
 * Rejects with kind `unavailable` when slurmrestd does not answer and `unsupported` when it offers
 * nothing we speak.
 */
export async function detectSlurmApi(http: SlurmHttp): Promise<SlurmApi> {
  let offered: string[] = [];
  let lastError: unknown = null;
  for (const path of DOCUMENTS) {
    try {
      const { status, json } = await http.raw('GET', path, 'read the OpenAPI document');
      if (status === 401 || status === 403) {
        throw new SlurmApiError('unauthorized', `read the OpenAPI document: slurmrestd at ${http.url} refused the token (HTTP ${status})`, { status });
      }
      if (status >= 200 && status < 300) {
        offered = offeredVersions(json);
        if (offered.length > 0) break;
      }
    } catch (error) {
      if (isSlurmApiError(error, 'unauthorized') || isSlurmApiError(error, 'unavailable')) throw error;
      lastError = error;
    }
  }

  if (offered.length === 0) {
    // No usable document: try the versions we know, newest first.
    for (const version of Object.keys(SLURM_ADAPTERS).sort(compareVersions).reverse()) {
      const api = SLURM_ADAPTERS[version]!(http);
      try {
        await api.ping();
        return api;
      } catch (error) {
        if (isSlurmApiError(error, 'unavailable') || isSlurmApiError(error, 'unauthorized')) throw error;
        lastError = error;
      }
    }
    const why = lastError instanceof Error ? `: ${lastError.message}` : '';
    throw new SlurmApiError('unsupported', `slurmrestd at ${http.url} publishes no OpenAPI document and answers none of ${Object.keys(SLURM_ADAPTERS).join(', ')}${why}`);
  }

  const version = pickVersion(offered);
  if (version === null) {
    throw new SlurmApiError(
      'unsupported',
      `slurmrestd at ${http.url} offers OpenAPI ${offered.join(', ')}; this agent speaks ${Object.keys(SLURM_ADAPTERS).join(', ')}. ` +
        'Load a plugin we speak (slurmrestd -s) or upgrade the agent.',
    );
  }
  return SLURM_ADAPTERS[version]!(http);
}

/** Orders `v0.0.38` before `v0.0.40` (numerically, part by part). */
export function compareVersions(a: string, b: string): number {
  const pa = a.replace(/^v/, '').split('.').map(Number);
  const pb = b.replace(/^v/, '').split('.').map(Number);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}
