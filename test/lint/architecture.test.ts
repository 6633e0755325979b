// The architecture rules of eslint.config.js, checked on small snippets at virtual paths: a rule that
// silently stopped matching (a glob typo, a regex that misses `../../`) would otherwise go unnoticed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { ESLint } from 'eslint';

const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
const eslint = new ESLint({ cwd: repoRoot });

type Found = { ruleId: string | null; message: string };

/** Every error and warning ESLint reports for `code` as if it were the file at `filePath` (relative to the repo). */
async function lint(filePath: string, code: string): Promise<Found[]> {
  const [result] = await eslint.lintText(code, { filePath: join(repoRoot, filePath) });
  assert.ok(result, `no lint result for ${filePath}`);
  return result.messages.map(({ ruleId, message }) => ({ ruleId, message }));
}

async function assertClean(filePath: string, code: string): Promise<void> {
  assert.deepEqual(await lint(filePath, code), [], `${filePath} should lint clean:\n${code}`);
}

/** Asserts `rule` reports an error whose message contains `why` (the reason must reach the reader). */
async function assertError(filePath: string, code: string, rule: string, why: string | RegExp): Promise<void> {
  const found = await lint(filePath, code);
  const hit = found.find((m) => m.ruleId === rule);
  assert.ok(hit, `${filePath}: expected ${rule} on\n${code}\ngot ${JSON.stringify(found)}`);
  if (typeof why === 'string') assert.ok(hit.message.includes(why), `message "${hit.message}" should mention "${why}"`);
  else assert.match(hit.message, why);
}

const useOf = (name: string, from: string) => `import { ${name} } from '${from}';\nexport const y = ${name};\n`;

test('dependency direction: a lower layer never imports a higher one, at any depth', async () => {
  await assertError('src/core/x.ts', useOf('db', '../store/db.js'), 'no-restricted-imports', 'src/core imports nothing of ours');
  await assertError('src/scheduler/a/b.ts', useOf('loop', '../../engine/loop.js'), 'no-restricted-imports',
    'src/scheduler may import only itself and src/core');
  await assertError('src/scheduler/a/b/c/d.ts', useOf('loop', '../../../../engine/loop.js'), 'no-restricted-imports', 'src/scheduler');
  // Deeper than the generated per-depth configs: the name-based fallback still catches it.
  await assertError('src/scheduler/a/b/c/d/e/f/g/h/x.ts', useOf('db', '../../../../../../../../../store/db.js'),
    'no-restricted-imports', 'src/scheduler');
  // Type-only imports and re-exports count too; so does leaving src/ and coming back in.
  await assertError('src/ledger/x.ts', "import type { Db } from '../store/db.js';\nexport type Y = Db;\n", 'no-restricted-imports', 'src/ledger');
  await assertError('src/ledger/x.ts', "export * from '../engine/loop.js';\n", 'no-restricted-imports', 'src/ledger');
  await assertError('src/core/x.ts', useOf('db', '../../src/store/db.js'), 'no-restricted-imports', 'src/core');
  await assertError('src/sim/x.ts', useOf('plan', '../catalog/plan.js'), 'no-restricted-imports', 'src/sim');
  await assertError('src/store/x.ts', useOf('price', '../ledger/price.js'), 'no-restricted-imports', 'src/store');
  await assertError('src/cli/x.ts', useOf('loop', '../engine/loop.js'), 'no-restricted-imports', 'src/cli');
  // A folder missing from the table is imported by nobody until it is added there.
  await assertError('src/scheduler/x.ts', useOf('chunk', '../util/chunk.js'), 'no-restricted-imports', 'src/scheduler');
});

test('dependency direction: allowed imports and imports within a folder lint clean', async () => {
  await assertClean('src/engine/x.ts', useOf('schedule', '../scheduler/schedule.js'));
  await assertClean('src/engine/deep/er/x.ts', useOf('db', '../../../store/db.js'));
  await assertClean('src/scheduler/a/b.ts', useOf('fit', '../fit.js'));
  await assertClean('src/scheduler/a/b.ts', useOf('fen', '../../core/money.js'));
  await assertClean('src/sim/x.ts', useOf('schedule', '../scheduler/schedule.js'));
  await assertClean('src/sim/io/x.ts', useOf('TraceRow', '../trace.js'));
  // Paths are resolved by depth, not by name: src/store/ledger/ is part of store, not src/ledger.
  await assertClean('src/store/repos/x.ts', useOf('accounts', '../ledger/accounts.js'));
  await assertClean('src/api/routes/jobs.ts', useOf('loop', '../../engine/loop.js'));
  await assertClean('src/cli/main.ts', useOf('up', './up/index.js'));
  await assertClean('src/cli/up/index.ts', useOf('createApp', '../../api/app.js'));
  // Paths that leave src/ for something that is not ours are not the layering's business.
  await assertClean('src/cli/version.ts', "import pkg from '../../package.json' with { type: 'json' };\nexport const v = pkg;\n");
});

test('the typed API client is importable by agent and cli; the rest of src/api is not', async () => {
  await assertClean('src/agent/x.ts', useOf('AgentClient', '../api/client/agent-client.js'));
  await assertClean('src/agent/connectors/local.ts', useOf('AgentClient', '../../api/client/agent-client.js'));
  await assertClean('src/cli/x.ts', useOf('ApiClient', '../api/client/index.js'));
  await assertError('src/agent/x.ts', useOf('app', '../api/app.js'), 'no-restricted-imports', 'src/agent may import only itself and src/core, src/api/client');
  await assertError('src/agent/x.ts', useOf('api', '../api/index.js'), 'no-restricted-imports', 'src/agent');
  await assertError('src/agent/x.ts', useOf('clientish', '../api/clientish.js'), 'no-restricted-imports', 'src/agent');
  // The client itself may not reach back into the server half of src/api.
  await assertError('src/api/client/x.ts', useOf('app', '../app.js'), 'no-restricted-imports', 'src/api/client');
  await assertClean('src/api/client/x.ts', useOf('JobId', '../../core/ids.js'));
});

test('pure folders: no real clock, no real randomness', async () => {
  const clock = /pure modules take a Clock; .* is forbidden in src\/scheduler \(design brief/;
  await assertError('src/scheduler/x.ts', 'export const t = Date.now();\n', 'no-restricted-properties', clock);
  await assertError('src/scheduler/x.ts', 'export const t = new Date();\n', 'no-restricted-syntax', clock);
  await assertError('src/scheduler/x.ts', 'export const t = performance.now();\n', 'no-restricted-properties', clock);
  await assertError('src/scheduler/x.ts', 'export const t = process.hrtime.bigint();\n', 'no-restricted-properties', clock);
  await assertError('src/scheduler/x.ts', 'export const r = Math.random();\n', 'no-restricted-properties',
    'pure modules take an Rng; Math.random() is forbidden in src/scheduler');
  await assertError('src/ledger/x.ts', 'export const e = process.env.RATE;\n', 'no-restricted-properties', 'process.env is forbidden in src/ledger');
  await assertError('src/core/x.ts', 'export const id = crypto.randomUUID();\n', 'no-restricted-properties', 'Rng');
  await assertError('src/catalog/x.ts', "export const p = fetch('https://example.com');\n", 'no-restricted-globals', 'network');
  // A Date from a number is fine: that is how pure code formats the Clock's time.
  await assertClean('src/scheduler/x.ts', 'export const iso = (ms: number): string => new Date(ms).toISOString();\n');
  // Impure folders may read the real clock.
  await assertClean('src/engine/x.ts', 'export const t = Date.now();\n');
  await assertClean('src/store/x.ts', 'export const t = new Date();\n');
});

test('pure folders: no file system, network, processes or database', async () => {
  await assertError('src/scheduler/x.ts', useOf('readFileSync', 'node:fs'), '@typescript-eslint/no-restricted-imports',
    'src/scheduler is pure: no file system');
  await assertError('src/scheduler/x.ts', useOf('readFile', 'fs/promises'), '@typescript-eslint/no-restricted-imports', 'file system');
  await assertError('src/ledger/x.ts', useOf('request', 'node:https'), '@typescript-eslint/no-restricted-imports', 'no network');
  await assertError('src/core/x.ts', useOf('spawn', 'node:child_process'), '@typescript-eslint/no-restricted-imports', 'processes');
  await assertError('src/catalog/x.ts', useOf('Kysely', 'kysely'), '@typescript-eslint/no-restricted-imports', 'no database');
  await assertError('src/catalog/x.ts', useOf('PGlite', '@electric-sql/pglite'), '@typescript-eslint/no-restricted-imports', 'no database');
  await assertError('src/sim/x.ts', useOf('serve', '@hono/node-server'), '@typescript-eslint/no-restricted-imports', 'no HTTP');
  await assertError('src/sim/x.ts', "export const load = () => import('./plugin.js');\n", 'no-restricted-syntax', 'import statically');
  // Impure folders may.
  await assertClean('src/store/x.ts', useOf('Kysely', 'kysely'));
  await assertClean('src/agent/connectors/local.ts', useOf('spawn', 'node:child_process'));
});

test('pure folders: only src/sim/io reads and writes files; unit tests may use temporary files', async () => {
  await assertClean('src/sim/io/x.ts', useOf('createReadStream', 'node:fs'));
  await assertClean('src/sim/io/traces/x.ts', useOf('createGunzip', 'node:zlib'));
  await assertError('src/sim/x.ts', useOf('createReadStream', 'node:fs'), '@typescript-eslint/no-restricted-imports', 'only src/sim/io');
  await assertError('src/sim/io/x.ts', useOf('request', 'node:http'), '@typescript-eslint/no-restricted-imports', 'no network');
  await assertError('src/sim/io/x.ts', 'export const t = Date.now();\n', 'no-restricted-properties', 'Clock');
  await assertClean('src/scheduler/place.test.ts',
    "import { test } from 'node:test';\nimport assert from 'node:assert/strict';\nimport { mkdtempSync } from 'node:fs';\n" +
    "import { tmpdir } from 'node:os';\nimport { join } from 'node:path';\n" +
    "test('x', () => { assert.ok(mkdtempSync(join(tmpdir(), 'x-'))); });\n");
  await assertError('src/scheduler/place.test.ts', useOf('request', 'node:http'), '@typescript-eslint/no-restricted-imports', 'no network');
});

test('general rules', async () => {
  await assertError('src/engine/x.ts', "export enum Kind { A }\n", 'no-restricted-syntax', 'as const');
  await assertError('src/engine/x.ts', "import { Clock } from '../core/clock.js';\nexport const f = (c: Clock) => c;\n",
    '@typescript-eslint/consistent-type-imports', /type/);
  await assertClean('src/engine/x.ts', 'export function f(_unused: number, b: number): boolean {\n  return b == null;\n}\n');
  await assertError('src/engine/x.ts', 'export const f = (a: number, b: string) => a == Number(b);\n', 'eqeqeq', '===');
});
