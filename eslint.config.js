// ESLint flat config. Besides ordinary hygiene it enforces the architecture of the design brief
// ("Layout and dependency direction"): which folder under src/ may import which, and that pure
// modules never touch the database, the network, the file system, the real clock or real randomness.
// Everything architectural is generated from the ARCHITECTURE table below; change the table, not the rules.
// Deliberately not type-checked (no parserOptions.project): lint must stay fast.
import { posix } from 'node:path';
import { defineConfig, globalIgnores } from 'eslint/config';
import tseslint from 'typescript-eslint';

const BRIEF = 'design brief: Layout and dependency direction';

/**
 * Folder under src/ → the folders it may import (besides itself), and whether it is pure.
 * A nested entry (api/client, cli/up) overrides its parent for the files under it.
 * `io` names a subfolder of a pure folder that may still use some node modules for file I/O.
 */
const ARCHITECTURE = {
  core:         { may: [],                                                             pure: true },
  scheduler:    { may: ['core'],                                                       pure: true },
  ledger:       { may: ['core'],                                                       pure: true },
  catalog:      { may: ['core'],                                                       pure: true },
  data:         { may: ['core'],                                                       pure: true, // the data plane's pure logic
                  io: { folder: 'data/io', modules: ['fs', 'path'] } },                // local files into manifests (push, job outputs)
  sim:          { may: ['core', 'scheduler', 'ledger'],                                pure: true,
                  io: { folder: 'sim/io', modules: ['fs', 'zlib', 'readline', 'path', 'stream'] } },
  store:        { may: ['core'],                                                       pure: false },
  engine:       { may: ['core', 'scheduler', 'ledger', 'catalog', 'data', 'store'],    pure: false },
  api:          { may: ['core', 'scheduler', 'ledger', 'catalog', 'data', 'store', 'engine'], pure: false },
  'api/client': { may: ['core'],                                                       pure: false },
  agent:        { may: ['core', 'api/client', 'data'],                                 pure: false },
  // `sim`: `suanwang sim` is an offline tool that wires the simulator (trace in, report out), as
  // `up` wires a server; it never reaches the control plane through it.
  cli:          { may: ['core', 'api/client', 'sim', 'data'],                          pure: false },
  'cli/up':     { may: '*',                                                            pure: false }, // wires a server
  'cli/server': { may: '*',                                                            pure: false }, // wires a server
  // `suanwang agent`: an agent runtime and its connector, talking to the server through the client.
  'cli/agent':  { may: ['core', 'api/client', 'agent', 'cli'],                         pure: false },
};

/** Node modules a unit test (*.test.ts) in a pure folder may use anyway, for temporary files. */
const TEST_MAY_USE = ['fs', 'os', 'path'];

/** What pure modules may not import, and why. Node modules match with and without `node:` and with subpaths. */
const PURE_BANS = [
  { node: ['fs', 'path', 'zlib', 'readline', 'stream'],
    why: 'no file system (only src/sim/io may read traces and write reports)' },
  { node: ['net', 'http', 'https', 'http2', 'tls', 'dgram', 'dns'], why: 'no network' },
  { node: ['child_process', 'worker_threads', 'cluster'], why: 'no processes or threads' },
  { node: ['os'], why: 'no reading the machine it runs on' },
  { node: ['perf_hooks'], why: 'take a Clock instead of reading the real one' },
  { node: ['process'], why: 'take configuration as arguments, not from process.env' },
  { packages: ['pg', 'kysely', '@electric-sql/pglite'], why: 'no database (src/store owns it)' },
  { packages: ['hono', '@hono/*'], why: 'no HTTP (src/api owns it)' },
];

/** no-restricted-syntax everywhere (pure folders add their own selectors to these). */
const SYNTAX_EVERYWHERE = [
  { selector: 'TSEnumDeclaration', message: 'no TS enum: use an `as const` object and a union type (design brief: Style)' },
];

const EXT = '{ts,tsx,mts,cts,js,mjs,cjs}';
/** Files nested deeper than this under a folder get a name-based (approximate) import check only. */
const MAX_DEPTH = 6;

checkArchitecture();

export default defineConfig(
  globalIgnores(['dist/', 'node_modules/', 'web/dist/', 'bench/results/', 'scratch/', '.suanwang/']),
  tseslint.configs.recommended,
  {
    files: [`**/*.${EXT}`],
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', {
        argsIgnorePattern: '^_',
        varsIgnorePattern: '^_',
        caughtErrorsIgnorePattern: '^_',
        destructuredArrayIgnorePattern: '^_',
        ignoreRestSiblings: true,
      }],
      '@typescript-eslint/consistent-type-imports': ['error', { prefer: 'type-imports' }],
      'no-console': 'off',
      eqeqeq: ['error', 'always', { null: 'ignore' }],
      'prefer-const': 'error',
      'no-restricted-syntax': ['error', ...SYNTAX_EVERYWHERE],
    },
  },
  ...layerConfigs(),
  ...purityConfigs(),
  // The portal (web/) runs in the browser and talks only to the public API: it may import the typed
  // client and its schemas, src/core and src/catalog (pure, browser-safe: the launch and manifest
  // checks are the server's own), and types from anywhere; nothing that runs only on the server.
  {
    files: [`web/src/**/*.${EXT}`],
    rules: {
      '@typescript-eslint/no-restricted-imports': ['error', {
        patterns: [{
          regex: '^(?:\\.\\./)+src/(?!(?:api/client|core|catalog)(?:/|$))',
          allowTypeImports: true,
          message: 'web/ runs in the browser: import values only from src/api/client, src/core and src/catalog (types from anywhere)',
        }],
      }],
    },
  },
);

// ---------------------------------------------------------------------------------------------
// Everything below turns the table into rules.

/** Entries ordered parents first, so that a nested entry's configs come later and win. */
function entries() {
  return Object.entries(ARCHITECTURE).sort(([a], [b]) => a.split('/').length - b.split('/').length);
}

function describeAllowed(entry) {
  const { may } = ARCHITECTURE[entry];
  if (may.length === 0) return `src/${entry} imports nothing of ours outside itself`;
  return `src/${entry} may import only itself and ${may.map((f) => `src/${f}`).join(', ')}`;
}

function escape(s) {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
/** A regex fragment: one of `names`, as a whole path segment (or segments). */
function alternatives(names) {
  return `(?:${names.map(escape).join('|')})(?:/|$)`;
}
function within(dir, folder) {
  return dir === folder || dir.startsWith(`${folder}/`);
}

/**
 * no-restricted-imports (the core rule) for the dependency direction. The patterns match the import
 * specifier only, so a config is generated per nesting depth: a file at depth d under src/<entry>
 * reaches src/ with exactly d + (segments of entry) `../`, and from there must go into an allowed folder.
 */
function layerConfigs() {
  const configs = [];
  for (const [entry, { may }] of entries()) {
    const base = `src/${entry}`;
    if (may === '*') {
      configs.push({ files: [`${base}/**/*.${EXT}`], rules: { 'no-restricted-imports': 'off' } });
      continue;
    }
    const message = `${describeAllowed(entry)} (${BRIEF})`;
    configs.push({
      files: [`${base}/**/*.${EXT}`],
      rules: { 'no-restricted-imports': ['error', { patterns: [{ regex: approximatePattern(entry), message }] }] },
    });
    for (let depth = 0; depth <= MAX_DEPTH; depth++) {
      configs.push({
        files: [`${base}/${'*/'.repeat(depth)}*.${EXT}`],
        rules: {
          'no-restricted-imports': ['error', { patterns: exactPatterns(entry, depth).map((regex) => ({ regex, message })) }],
        },
      });
    }
  }
  return configs;
}

/** Regexes for the imports a file `depth` folders below src/<entry> may not make. */
function exactPatterns(entry, depth) {
  const allowed = [entry, ...ARCHITECTURE[entry].may].map((f) => `src/${f}`);
  const fileDir = posix.join('src', entry, ...Array(depth).fill('x'));
  const ups = (n) => `^(?:\\./)?${'\\.\\./'.repeat(n - 1)}\\.\\.`;
  const notUp = '(?!\\.\\.(?:/|$))';
  const patterns = [];
  const toSrc = depth + entry.split('/').length;
  for (let up = depth + 1; up <= toSrc; up++) {
    const landing = posix.join(fileDir, ...Array(up).fill('..'));
    // Landing in an allowed ancestor (say, a nested entry allowed its parent): anything below is fine.
    if (allowed.some((a) => within(landing, a))) continue;
    const onward = allowed.filter((a) => within(a, landing)).map((a) => posix.relative(landing, a));
    const notOnward = onward.length > 0 ? `(?!${alternatives(onward)})` : '';
    patterns.push(`${ups(up)}(?:$|/${notUp}${notOnward})`);
  }
  // One more `../` leaves src/; coming back in through `src/` is held to the same table.
  const back = allowed.map((a) => posix.relative('src', a));
  patterns.push(`${ups(toSrc + 1)}/src(?:$|/(?!${alternatives(back)}))`);
  return patterns;
}

/** For files deeper than MAX_DEPTH: any number of `../` followed by a folder of the table that is not allowed. */
function approximatePattern(entry) {
  const allowed = [entry, ...ARCHITECTURE[entry].may];
  const tops = [...new Set(Object.keys(ARCHITECTURE).map((f) => f.split('/')[0]))];
  return `^(?:\\./)?(?:\\.\\./)+(?:src/)?(?!${alternatives(allowed)})${alternatives(tops)}`;
}

/**
 * Pure folders: banned modules (@typescript-eslint/no-restricted-imports, a separate rule from the
 * layering one so the two never overwrite each other's options), the real clock and randomness
 * (no-restricted-properties / -syntax) and network globals (no-restricted-globals).
 */
function purityConfigs() {
  const configs = [];
  for (const [entry, { pure, io }] of entries()) {
    if (!pure) continue;
    const base = `src/${entry}`;
    const where = `in src/${entry} (${BRIEF})`;
    const clock = (what) => `pure modules take a Clock; ${what} is forbidden ${where}`;
    const rng = (what) => `pure modules take an Rng; ${what} is forbidden ${where}`;
    const imports = (allow) => ['error', { patterns: bannedModules(entry, allow) }];
    configs.push({
      files: [`${base}/**/*.${EXT}`],
      rules: {
        '@typescript-eslint/no-restricted-imports': imports([]),
        'no-restricted-properties': ['error',
          { object: 'Date', property: 'now', message: clock('Date.now()') },
          { object: 'performance', property: 'now', message: clock('performance.now()') },
          { object: 'process', property: 'hrtime', message: clock('process.hrtime') },
          { object: 'process', property: 'env', message: `pure modules take configuration as arguments; process.env is forbidden ${where}` },
          { object: 'Math', property: 'random', message: rng('Math.random()') },
          ...['randomUUID', 'randomBytes', 'randomInt', 'getRandomValues'].map((property) => (
            { object: 'crypto', property, message: rng(`crypto.${property}()`) })),
        ],
        'no-restricted-syntax': ['error', ...SYNTAX_EVERYWHERE,
          { selector: "NewExpression[callee.name='Date'][arguments.length=0]", message: clock('new Date() without arguments') },
          { selector: "CallExpression[callee.name='Date']", message: clock('Date()') },
          { selector: 'ImportExpression', message: `import() hides a dependency from the architecture check; import statically ${where}` },
        ],
        'no-restricted-globals': ['error',
          ...['fetch', 'WebSocket', 'XMLHttpRequest', 'EventSource'].map((name) => (
            { name, message: `pure modules never touch the network; ${name} is forbidden ${where}` })),
        ],
      },
    });
    configs.push({
      files: [`${base}/**/*.test.${EXT}`],
      rules: { '@typescript-eslint/no-restricted-imports': imports(TEST_MAY_USE) },
    });
    if (io) {
      configs.push({ files: [`src/${io.folder}/**/*.${EXT}`], rules: { '@typescript-eslint/no-restricted-imports': imports(io.modules) } });
      configs.push({
        files: [`src/${io.folder}/**/*.test.${EXT}`],
        rules: { '@typescript-eslint/no-restricted-imports': imports([...io.modules, ...TEST_MAY_USE]) },
      });
    }
  }
  return configs;
}

function bannedModules(entry, allow) {
  const patterns = [];
  for (const { node = [], packages = [], why } of PURE_BANS) {
    const message = `src/${entry} is pure: ${why} (${BRIEF})`;
    for (const name of node.filter((n) => !allow.includes(n))) {
      patterns.push({ regex: `^(?:node:)?${escape(name)}(?:/.*)?$`, caseSensitive: true, message });
    }
    for (const name of packages) {
      const stem = name.endsWith('/*') ? `${escape(name.slice(0, -1))}.+` : `${escape(name)}(?:/.*)?`;
      patterns.push({ regex: `^${stem}$`, caseSensitive: true, message });
    }
  }
  return patterns;
}

/** Fails loudly on a table that names unknown folders, lets pure import impure, or has a cycle. */
function checkArchitecture() {
  const folders = Object.keys(ARCHITECTURE);
  for (const [entry, { may, pure }] of Object.entries(ARCHITECTURE)) {
    if (may === '*') continue;
    for (const f of may) {
      if (!folders.includes(f)) throw new Error(`eslint.config.js: src/${entry} may import '${f}', which is not in ARCHITECTURE`);
      if (pure && !ARCHITECTURE[f].pure) throw new Error(`eslint.config.js: pure src/${entry} may not import impure src/${f}`);
    }
  }
  const visiting = new Set();
  const visit = (f, path) => {
    if (visiting.has(f)) throw new Error(`eslint.config.js: import cycle ${[...path, f].join(' → ')}`);
    visiting.add(f);
    const { may } = ARCHITECTURE[f];
    if (may !== '*') for (const g of may) visit(g, [...path, f]);
    visiting.delete(f);
  };
  for (const f of folders) visit(f, []);
}
