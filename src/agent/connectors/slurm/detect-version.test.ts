import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compareVersions, detectSlurmApi, offeredVersions, pickVersion } from './detect-version.js';
import { isSlurmApiError } from './slurm-api.js';
import { SlurmHttp } from './slurm-http.js';

/** A fetch that answers from a table of path → [status, body]; anything else is a 404. */
function fakeFetch(routes: Record<string, [number, unknown]>, seen: string[] = []): typeof fetch {
  return (async (input: string | URL | Request, init?: RequestInit) => {
    const url = new URL(typeof input === 'string' ? input : input instanceof URL ? input.href : input.url);
    seen.push(`${init?.method ?? 'GET'} ${url.pathname}`);
    const route = routes[url.pathname];
    if (!route) return new Response('not found', { status: 404 });
    const [status, body] = route;
    return new Response(typeof body === 'string' ? body : JSON.stringify(body), { status });
  }) as typeof fetch;
}

const http = (routes: Record<string, [number, unknown]>, seen?: string[]) =>
  new SlurmHttp({ url: 'http://slurm.test:6820/', user: 'root', token: 't', fetch: fakeFetch(routes, seen) });

/** The paths of Slurm 22.05's document with v0.0.36–v0.0.38 loaded (its info.version says 0.0.36). */
const DOC_2205 = {
  openapi: '3.0.2',
  info: { version: '0.0.36' },
  paths: Object.fromEntries(['v0.0.36', 'v0.0.37', 'v0.0.38'].flatMap((v) => [[`/slurm/${v}/jobs`, {}], [`/slurm/${v}/ping`, {}]])),
};

describe('offeredVersions and pickVersion', () => {
  it('reads the versions from the paths, newest first', () => {
    assert.deepEqual(offeredVersions(DOC_2205), ['v0.0.38', 'v0.0.37', 'v0.0.36']);
    assert.deepEqual(offeredVersions({ paths: { '/openapi': {}, '/slurmdb/v0.0.38/jobs': {} } }), []);
    assert.deepEqual(offeredVersions(null), []);
  });
  it('picks the newest version we have an adapter for', () => {
    assert.equal(pickVersion(['v0.0.36', 'v0.0.38', 'v0.0.37']), 'v0.0.38');
    assert.equal(pickVersion(['v0.0.41', 'v0.0.40'], ['v0.0.38', 'v0.0.40']), 'v0.0.40');
    assert.equal(pickVersion(['v0.0.36']), null);
  });
  it('compares versions by number', () => {
    assert.ok(compareVersions('v0.0.38', 'v0.0.40') < 0);
    assert.ok(compareVersions('v0.0.100', 'v0.0.40') > 0);
  });
});

describe('detectSlurmApi', () => {
  it('chooses the v0.0.38 adapter for Slurm 22.05', async () => {
    const api = await detectSlurmApi(http({ '/openapi/v3': [200, DOC_2205] }));
    assert.equal(api.version, 'v0.0.38');
  });

  it('falls back to probing ping when there is no document', async () => {
    const seen: string[] = [];
    const api = await detectSlurmApi(http({ '/slurm/v0.0.38/ping': [200, { errors: [], pings: [{ ping: 'UP' }] }] }, seen));
    assert.equal(api.version, 'v0.0.38');
    assert.deepEqual(seen, ['GET /openapi/v3', 'GET /openapi', 'GET /slurm/v0.0.38/ping']);
  });

  it('names what the server offers when we speak none of it', async () => {
    const doc = { paths: { '/slurm/v0.0.41/jobs': {}, '/slurm/v0.0.42/jobs': {} } };
    await assert.rejects(detectSlurmApi(http({ '/openapi/v3': [200, doc] })), (error: unknown) => {
      assert.ok(isSlurmApiError(error, 'unsupported'));
      assert.match(error.message, /offers OpenAPI v0\.0\.42, v0\.0\.41; this agent speaks v0\.0\.38/);
      return true;
    });
  });

  it('is unavailable, not unsupported, when slurmrestd does not answer', async () => {
    const down = new SlurmHttp({
      url: 'http://slurm.test:6820',
      user: 'root',
      token: 't',
      fetch: (async () => {
        throw new TypeError('fetch failed', { cause: Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }) });
      }) as typeof fetch,
    });
    await assert.rejects(detectSlurmApi(down), (error: unknown) => isSlurmApiError(error, 'unavailable') && /ECONNREFUSED/.test(error.message));
  });

  it('a refused token is unauthorized', async () => {
    await assert.rejects(detectSlurmApi(http({ '/openapi/v3': [401, 'Authentication failure'] })), (error: unknown) => isSlurmApiError(error, 'unauthorized'));
  });
});

describe('SlurmHttp error classes, from what slurmrestd 22.05 answered', () => {
  const meta = { meta: { plugin: { type: 'openapi/v0.0.38' } } };
  const answer = async (status: number, body: unknown) => {
    try {
      await http({ '/x': [status, body] }).call('GET', '/x', 'do x');
      return 'ok';
    } catch (error) {
      assert.ok(isSlurmApiError(error));
      return error.kind;
    }
  };
  it('classifies each failure', async () => {
    assert.equal(await answer(200, { ...meta, errors: [] }), 'ok');
    assert.equal(await answer(500, { ...meta, errors: [{ error_number: 2017, error: 'Invalid job id specified' }] }), 'not-found');
    assert.equal(await answer(500, { ...meta, errors: [{ error_number: -1, error: 'Unspecified error', description: 'Failed while looking for jobs' }] }), 'unavailable');
    assert.equal(await answer(500, { ...meta, errors: [{ error_code: 1800, error: 'Unable to contact slurm controller (connect failure)' }] }), 'unavailable');
    assert.equal(await answer(500, { ...meta, errors: [{ error_code: 5005, error: 'Zero Bytes were transmitted or received' }] }), 'unavailable');
    assert.equal(await answer(500, { ...meta, errors: [{ error_code: 2000, error: 'Invalid partition name specified' }] }), 'rejected');
    assert.equal(await answer(500, { ...meta, errors: [{ error_code: 2014, error: 'Requested node configuration is not available' }] }), 'rejected');
    assert.equal(await answer(400, { ...meta, errors: [{ error: 'environment must be set', error_code: 2127 }, { error_code: 9001 }] }), 'rejected');
    assert.equal(await answer(401, 'Authentication failure'), 'unauthorized');
    assert.equal(await answer(502, '<html>bad gateway</html>'), 'unavailable');
  });
});
