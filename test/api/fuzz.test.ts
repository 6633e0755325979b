import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { testDatabases } from '../support/databases.js';
import { changedTables, fingerprint } from '../support/fingerprint.js';
import { buildWorld, type World } from '../support/world.js';

/**
 * API fuzz: schema-guided random and malformed requests, generated from the OpenAPI document's own
 * schemas (valid-ish bodies, then wrong types, missing and extra fields, huge numbers, unicode, NUL
 * and control characters, bad JSON, bad query strings, random path ids), sent with every kind of
 * token. Holds on both databases: no 5xx ever, every 4xx in the error shape, and no 4xx changes the
 * database (whole-database row counts and checksums).
 *
 * Seeded and bounded: SUANWANG_FUZZ_SEED and SUANWANG_FUZZ_RUNS (per database) replay or widen a
 * run; a failure prints the seed and path to replay it.
 */
const SEED = Number(process.env.SUANWANG_FUZZ_SEED ?? 11_2026);
const RUNS = Number(process.env.SUANWANG_FUZZ_RUNS ?? 200);

type JsonSchema = {
  type?: string | string[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  additionalProperties?: boolean | JsonSchema;
  items?: JsonSchema;
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  allOf?: JsonSchema[];
  enum?: unknown[];
  const?: unknown;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
  minLength?: number;
  maxLength?: number;
  maxItems?: number;
  default?: unknown;
};

interface Parameter {
  readonly name: string;
  readonly in: 'path' | 'query' | 'header';
  readonly schema: JsonSchema;
}

interface Operation {
  readonly method: string;
  readonly path: string;
  readonly parameters: readonly Parameter[];
  readonly body: JsonSchema | null;
}

/** Strings an attacker tries: control characters, NUL, escapes, lone surrogates, paths, SQL, very long. */
const NASTY_STRINGS = [
  '',
  '\u0000',
  'a\u0000b',
  '\u001b[31mred\u001b[0m',
  '\r\n\t\b\f\v',
  '\ud800',
  '\udfff\ud800',
  '💥🚀',
  '算网',
  '\u202eevil',
  '../../../../etc/passwd',
  "' OR 1=1 --",
  '%00%zz',
  '${jndi:ldap://x}',
  '{{7*7}}',
  'x'.repeat(5000),
  ' ',
];
const nastyString = fc.oneof(fc.constantFrom(...NASTY_STRINGS), fc.string({ unit: 'binary', maxLength: 40 }), fc.string({ maxLength: 20 }));
const HUGE_NUMBERS = [-1, 0, 1.5, -0.0001, 2 ** 31, 2 ** 53, 2 ** 53 + 2, 1e21, 1e308, -1e308, Number.MAX_SAFE_INTEGER, Number.MIN_SAFE_INTEGER];
const weird: fc.Arbitrary<unknown> = fc.oneof(
  nastyString,
  fc.constantFrom(...HUGE_NUMBERS),
  fc.constantFrom(null, true, false, [], {}, [null], { __proto__: null }, { constructor: { prototype: 1 } }),
  fc.integer(),
  fc.double(),
  fc.anything({ maxDepth: 3 }),
);

/** Valid-ish values of a JSON schema (the subset zod emits), staying small. */
function fromSchema(s: JsonSchema | undefined, depth = 0): fc.Arbitrary<unknown> {
  if (!s || depth > 4) return fc.anything({ maxDepth: 1 });
  if (s.const !== undefined) return fc.constant(s.const);
  if (s.enum) return fc.constantFrom(...s.enum);
  const alternatives = s.anyOf ?? s.oneOf;
  if (alternatives && alternatives.length > 0) return fc.oneof(...alternatives.map((a) => fromSchema(a, depth + 1)));
  if (s.allOf && s.allOf.length > 0) return fromSchema(s.allOf[0], depth + 1);
  const type = Array.isArray(s.type) ? s.type[0] : s.type;
  switch (type) {
    case 'string':
      return fc.oneof(fc.string({ minLength: s.minLength ?? 0, maxLength: Math.min(s.maxLength ?? 12, 12) }), fc.constantFrom('echo', 'vapp', 'west', 'east', 'victim-data', 'sh', '1.0.0', '2026-12-31T00:00:00Z'));
    case 'integer': {
      const min = Math.max(s.minimum ?? (s.exclusiveMinimum !== undefined ? s.exclusiveMinimum + 1 : -1000), -1e6);
      const max = Math.min(s.maximum ?? (s.exclusiveMaximum !== undefined ? s.exclusiveMaximum - 1 : 1000), 1e6);
      return min <= max ? fc.integer({ min: Math.ceil(min), max: Math.floor(max) }) : fc.integer();
    }
    case 'number':
      return fc.double({ min: s.minimum ?? -1000, max: s.maximum ?? 1000, noNaN: true });
    case 'boolean':
      return fc.boolean();
    case 'null':
      return fc.constant(null);
    case 'array':
      return fc.array(fromSchema(s.items, depth + 1), { maxLength: Math.min(s.maxItems ?? 3, 3) });
    case 'object': {
      const props = s.properties ?? {};
      if (Object.keys(props).length === 0 && typeof s.additionalProperties === 'object') {
        return fc.dictionary(fc.string({ maxLength: 8 }), fromSchema(s.additionalProperties, depth + 1), { maxKeys: 3 });
      }
      const record: Record<string, fc.Arbitrary<unknown>> = {};
      for (const [k, v] of Object.entries(props)) record[k] = fromSchema(v, depth + 1);
      return fc.record(record, { requiredKeys: (s.required ?? []).filter((k) => k in props) });
    }
    default:
      return fc.anything({ maxDepth: 2 });
  }
}

/** A body: valid-ish, or one mutation of it (a wrong value, a missing or extra field), or not JSON at all. */
function bodyArb(s: JsonSchema): fc.Arbitrary<{ text: string; contentType: string | null }> {
  const json = (v: unknown) => ({ text: JSON.stringify(v) ?? 'null', contentType: 'application/json' as string | null });
  const valid = fromSchema(s);
  const mutated = fc.tuple(valid, fc.nat(), weird, fc.constantFrom('replace', 'delete', 'extra')).map(([v, k, w, how]) => {
    if (v === null || typeof v !== 'object' || Array.isArray(v)) return w;
    const out = { ...(v as Record<string, unknown>) };
    const keys = Object.keys(s.properties ?? out);
    const key = keys.length > 0 ? keys[k % keys.length]! : 'x';
    if (how === 'replace') out[key] = w;
    else if (how === 'delete') delete out[key];
    else out[`extra_${k % 7}`] = w;
    return out;
  });
  const raw = fc.oneof(
    fc.constantFrom('{', '[1,', '{"a":1}}', 'nul', '\u0000', '{"command":["echo"],"command":["sh"]}', '1'.repeat(400), '{"a":' + '['.repeat(5000), '"\\ud800"', '{"__proto__":{"admin":true}}'),
    fc.string({ unit: 'binary', maxLength: 60 }),
  );
  return fc.oneof(
    { weight: 3, arbitrary: valid.map(json) },
    { weight: 4, arbitrary: mutated.map(json) },
    { weight: 1, arbitrary: weird.map(json) },
    { weight: 2, arbitrary: raw.map((text) => ({ text, contentType: 'application/json' as string | null })) },
    { weight: 1, arbitrary: fc.tuple(valid, fc.constantFrom(null, 'text/plain', 'application/x-www-form-urlencoded', 'application/json; charset=latin1')).map(([v, ct]) => ({ text: JSON.stringify(v) ?? '', contentType: ct })) },
  );
}

/** A path parameter: a real id of the world (the victim's job, products, centers) or any string. */
function pathValueArb(w: World): fc.Arbitrary<string> {
  return fc.oneof(fc.constantFrom(w.victimJob, w.victimDataset.id, 'vapp', 'vsecret', '1.0.0', '2.0.0', 'west', 'east', 'job_00000000000000000000'), nastyString.filter((x) => x.length > 0));
}

/** A query value: from its schema (as text), or anything; long polls are never asked to wait. */
function queryValueArb(p: Parameter): fc.Arbitrary<string> {
  if (p.name === 'waitMs') return fc.constantFrom('0', '-1', 'abc', '1e99', '0x10', '');
  return fc.oneof(fromSchema(p.schema).map((v) => (typeof v === 'string' ? v : JSON.stringify(v) ?? '')), nastyString, fc.constantFrom(...HUGE_NUMBERS.map(String), 'NaN', 'Infinity', 'true,false', 'queued,nope'));
}

const encode = (s: string) => {
  try {
    return encodeURIComponent(s);
  } catch {
    return '%ED%A0%80'; // a lone surrogate cannot be encoded: send its raw bytes instead
  }
};

type Who = 'anonymous' | keyof World['tokens'] | 'garbage';
const WHO: readonly Who[] = ['anonymous', 'victim', 'victimProvider', 'otherUser', 'provider', 'operator', 'admin', 'otherAgent', 'westAgent', 'garbage'];

interface Request {
  readonly op: Operation;
  readonly url: string;
  readonly who: Who;
  readonly session: string | null;
  readonly body: { text: string; contentType: string | null } | null;
}

function requestArb(w: World, ops: readonly Operation[]): fc.Arbitrary<Request> {
  return fc.constantFrom(...ops).chain((op) => {
    const pathParams = op.parameters.filter((p) => p.in === 'path');
    const queryParams = op.parameters.filter((p) => p.in === 'query');
    const path = fc.tuple(...pathParams.map(() => pathValueArb(w))).map((values) => values.reduce((p, v, i) => p.replace(`{${pathParams[i]!.name}}`, encode(v)), op.path));
    // A long poll is never left to wait its default: waitMs is always sent (0 or refused).
    const polls = queryParams.some((p) => p.name === 'waitMs');
    const query = fc.oneof(
      {
        weight: 4,
        arbitrary: fc
          .tuple(...queryParams.map((p) => (p.name === 'waitMs' ? queryValueArb(p) : fc.option(queryValueArb(p), { nil: undefined }))))
          .map((vs) => vs.map((v, i) => (v === undefined ? '' : `${queryParams[i]!.name}=${encode(v)}`)).filter(Boolean).join('&')),
      },
      { weight: 1, arbitrary: fc.constantFrom('%', 'a=%zz', '=&&=', 'limit=1&limit=2', 'state=running&state=queued', '%00=%00').map((q) => (polls ? `waitMs=0&${q}` : q)) },
    );
    return fc.record({
      op: fc.constant(op),
      url: fc.tuple(path, query).map(([p, q]) => (q ? `${p}?${q}` : p)),
      who: fc.constantFrom(...WHO),
      session: fc.constantFrom(w.eastSession, w.westSession, null, 'as_forged', '\u0000'),
      body: op.body ? fc.option(bodyArb(op.body), { nil: null, freq: 8 }) : fc.constant(null),
    });
  });
}

function operations(doc: { paths: Record<string, Record<string, { parameters?: Parameter[]; requestBody?: { content: Record<string, { schema: JsonSchema }> } }>> }): Operation[] {
  return Object.entries(doc.paths).flatMap(([path, ops]) =>
    Object.entries(ops).map(([method, o]) => ({ method, path, parameters: o.parameters ?? [], body: o.requestBody?.content['application/json']?.schema ?? null })),
  );
}

/** Headers can carry only Latin-1: a session that cannot be sent is sent as a forged one. */
const headerSafe = (s: string) => (/^[\x20-\x7e]*$/.test(s) ? s : 'as_forged');

for (const database of await testDatabases()) {
  describe(`API fuzz: no 5xx, no change on 4xx (${database.name})`, { skip: database.skip, timeout: 300_000 }, () => {
    let w: World;
    let ops: Operation[];
    before(async () => {
      w = await buildWorld(database);
      ops = operations((await (await w.app.request('/v1/openapi.json')).json()) as Parameters<typeof operations>[0]);
    });
    after(async () => {
      await w?.drop();
    });

    it('named regressions: NUL bytes in a path id, a query value and an agent-reported reason give a 4xx or are mapped, never a 500', { timeout: 60_000 }, async () => {
      const cases: { path: string; method?: string; token: keyof World['tokens']; body?: unknown; session?: string }[] = [
        { path: '/v1/jobs/%00', token: 'victim' },
        { path: '/v1/jobs?cursor=%00', token: 'victim' },
        { path: '/v1/products?provider=%00', token: 'victim' },
        { path: '/v1/products/a%00b', token: 'victim' },
        { path: `/v1/agent/jobs/${w.victimJob}/state`, method: 'POST', token: 'otherAgent', session: w.eastSession, body: { attempt: 1, state: 'failed', exitCode: 1, reason: 'a\u0000b', at: 0 } },
        { path: '/v1/agent/heartbeat', method: 'POST', token: 'otherAgent', session: w.eastSession, body: { runs: [], health: { degraded: false, reason: 'x\u0000' } } },
      ];
      for (const c of cases) {
        const before = await fingerprint(w.store);
        const res = await w.app.request(c.path, {
          method: c.method ?? 'GET',
          headers: { authorization: `Bearer ${w.tokens[c.token]}`, 'content-type': 'application/json', ...(c.session ? { 'x-agent-session': c.session } : {}) },
          ...(c.body ? { body: JSON.stringify(c.body) } : {}),
        });
        const text = await res.text();
        assert.ok(res.status < 500, `${c.path}: ${res.status} ${text}`);
        if (res.status >= 400) assert.deepEqual(changedTables(before, await fingerprint(w.store)), [], c.path);
      }
    });

    it(`${RUNS} schema-guided and malformed requests (seed ${SEED})`, { timeout: 240_000 }, async () => {
      let served = 0;
      const statuses = new Map<number, number>();
      await fc.assert(
        fc.asyncProperty(requestArb(w, ops), async (r) => {
          const token = r.who === 'anonymous' ? undefined : r.who === 'garbage' ? 'sw_u_\u00ff' : w.tokens[r.who];
          const headers: Record<string, string> = {};
          if (token) headers.authorization = `Bearer ${token.replace(/[^\x20-\x7e]/g, '?')}`;
          if (r.session !== null && r.op.path.startsWith('/v1/agent/')) headers['x-agent-session'] = headerSafe(r.session);
          if (r.body?.contentType) headers['content-type'] = r.body.contentType;
          const before = await fingerprint(w.store);
          const res = await w.app.request(r.url, { method: r.op.method.toUpperCase(), headers, ...(r.body ? { body: r.body.text } : {}) });
          const text = await res.text();
          served++;
          statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
          const what = `${r.op.method.toUpperCase()} ${r.url.slice(0, 200)} as ${r.who}${r.body ? ` with ${r.body.contentType ?? 'no content type'} ${JSON.stringify(r.body.text.slice(0, 200))}` : ''} → ${res.status} ${text.slice(0, 300)}`;
          assert.ok(res.status < 500, `server error: ${what}`);
          if (res.status >= 400) {
            const body = JSON.parse(text) as { error?: { code?: unknown; message?: unknown } };
            assert.equal(typeof body.error?.code, 'string', `4xx without an error code: ${what}`);
            const changed = changedTables(before, await fingerprint(w.store));
            assert.deepEqual(changed, [], `a ${res.status} changed ${changed.join(', ')}: ${what}`);
          }
        }),
        { numRuns: RUNS, seed: SEED, endOnFailure: true },
      );
      assert.ok(served >= RUNS);
      console.log(`# fuzz (${database.name}): ${served} requests; by status ${JSON.stringify(Object.fromEntries([...statuses].sort((a, b) => a[0] - b[0])))}`);
    });
  });
}
