import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { appManifest, parsed, product, row } from './fixtures.js';
import { ManifestSchema, MAX_FILES_BYTES, type AppManifestInput } from './manifest.js';

function issues(input: AppManifestInput): [string, string][] {
  const r = ManifestSchema.safeParse(input);
  // A bad record key's message sits inside the issue (zod's invalid_key).
  const message = (i: { message: string; issues?: { message: string }[] }) => [i.message, ...(i.issues ?? []).map((n) => n.message)].join(': ');
  return r.success ? [] : r.error.issues.map((i) => [i.path.join('.'), message(i as never)]);
}

/** Asserts exactly one issue, at `path`, whose message contains `text`. */
function rejects(input: AppManifestInput, path: string, text: string): void {
  const found = issues(input);
  assert.equal(found.length, 1, `expected one issue, got ${JSON.stringify(found)}`);
  assert.equal(found[0]![0], path);
  assert.ok(found[0]![1].includes(text), `message ${JSON.stringify(found[0]![1])} should contain ${JSON.stringify(text)}`);
}

describe('ManifestSchema', () => {
  it('accepts the fixtures and fills in defaults', () => {
    const m = parsed(appManifest());
    assert.equal(m.visibility, 'public');
    assert.deepEqual(m.price, { kind: 'free' });
    assert.deepEqual(m.tags, []);
    assert.deepEqual(m.app?.resources.defaults, { nodes: 1, acceleratorsPerNode: 0, coresPerNode: 1, memoryMiBPerNode: 1024, walltimeSeconds: 3600 });
    assert.deepEqual(m.app?.parameters.required, []);
    assert.equal(m.app?.parameters.type, 'object');
    parsed(product({ category: 'saas', price: { kind: 'per-hour', fenPerHour: 50 } }));
  });

  const FIELD_CASES: readonly [string, AppManifestInput, string, string][] = [
    ['a name that is not a slug', product({ name: 'MD_LJ' }), 'name', 'lowercase slug'],
    ['a version that is not semver', product({ version: '1.0' }), 'version', 'semantic version'],
    ['an unknown field', { ...product(), license: 'MIT' } as AppManifestInput, '', 'Unrecognized key: "license"'],
    ['an unknown category', product({ category: 'games' as 'code' }), 'category', 'Invalid option'],
    ['a fractional fee', product({ price: { kind: 'per-run', fen: 1.5 } }), 'price.fen', 'expected int'],
    ['a zero efficiency', appManifest({ adaptation: { 'nvidia-a100': row(0) } }), 'app.adaptation.nvidia-a100.efficiency', 'must be above 0'],
    ['an unknown family', appManifest({ command: { cpu: ['python3', '{{steps}}'], cuda: ['python3', '{{steps}}'], rocm: ['y'] } as never }), 'app.command', 'Unrecognized key: "rocm"'],
    ['an escaping file path', appManifest({ files: { '../etc/passwd': 'x' } }), 'app.files.../etc/passwd', 'relative path'],
    ['an absolute file path', appManifest({ files: { '/tmp/x': 'x' } }), 'app.files./tmp/x', 'relative path'],
    ['a platform environment name', appManifest({ env: { SUANWANG_TOKEN: 'x' } }), 'app.env.SUANWANG_TOKEN', 'set by the platform'],
    ['a string keyword on an integer', appManifest({ parameters: { properties: { steps: { type: 'integer', default: 1, pattern: 'x' } as never } } }), 'app.parameters.properties.steps', 'Unrecognized key: "pattern"'],
    ['an empty program', appManifest({ command: { cpu: ['', '{{steps}}'], cuda: ['python3', '{{steps}}'] } }), 'app.command.cpu', 'program'],
  ];
  for (const [what, input, path, text] of FIELD_CASES) {
    it(`rejects ${what}`, () => rejects(input, path, text));
  }
});

describe('cross-field rules', () => {
  const CASES: readonly [string, AppManifestInput, string, string][] = [
    ['an accelerator not in the table', appManifest({ adaptation: { 'nvidia-a100': row(1), 'ascend-910x': row(1) } }), 'app.adaptation.ascend-910x', 'unknown accelerator ascend-910x'],
    ['an adapted chip whose family has no command', appManifest({ adaptation: { 'nvidia-a100': row(1), 'ascend-910b': row(0.8) } }), 'app.adaptation.ascend-910b', 'no cann command'],
    ['a family command with no adapted chip', appManifest({ command: { cpu: ['python3', 'run.py', '{{steps}}'], cuda: ['python3', 'run.py', '{{steps}}'], dtk: ['python3', 'run.py', '{{steps}}'] } }), 'app.command.dtk', 'never used'],
    ['a CPU default without a cpu command', appManifest({ command: { cuda: ['python3', 'run.py', '{{steps}}'] } }), 'app.command', 'no cpu command'],
    ['an accelerator default without adaptation', appManifest({ command: { cpu: ['python3', 'run.py', '{{steps}}'] }, adaptation: {}, resources: { defaults: { acceleratorsPerNode: 1 } } }), 'app.resources.defaults.acceleratorsPerNode', 'lists none'],
    ['a default above its limit', appManifest({ resources: { defaults: { walltimeSeconds: 7200 }, limits: { walltimeSeconds: 3600 } } }), 'app.resources.defaults.walltimeSeconds', 'above the limit 3600'],
    ['a placeholder naming no parameter', appManifest({ command: { cpu: ['python3', 'run.py', '{{step}}', '{{steps}}'], cuda: ['python3', '{{steps}}'] } }), 'app.command.cpu.2', 'placeholder {{step}} names no parameter'],
    ['a malformed placeholder', appManifest({ command: { cpu: ['python3', '{{steps}}', '{{ 2x }}'], cuda: ['python3', '{{steps}}'] } }), 'app.command.cpu.2', 'malformed placeholder'],
    ['a placeholder of an optional parameter without default', appManifest({ parameters: { properties: { steps: { type: 'integer' } } }, command: { cpu: ['python3', 'run.py', '--steps', '{{steps}}'], cuda: ['python3', 'run.py'] } }), 'app.command.cpu.3', 'without a default'],
    ['an unused parameter', appManifest({ parameters: { properties: { steps: { type: 'integer', default: 1 }, seed: { type: 'integer', default: 1 } } } }), 'app.parameters.properties.seed', 'used by no command'],
    ['a default outside its range', appManifest({ parameters: { properties: { steps: { type: 'integer', default: 0, minimum: 1 } } } }), 'app.parameters.properties.steps.default', 'steps: 0 is below the minimum 1'],
    ['a default outside its enum', appManifest({ parameters: { properties: { steps: { type: 'integer', default: 3, enum: [1, 2] } } } }), 'app.parameters.properties.steps.default', 'is not one of 1, 2'],
    ['minimum above maximum', appManifest({ parameters: { properties: { steps: { type: 'integer', minimum: 10, maximum: 1 } }, required: ['steps'] } }), 'app.parameters.properties.steps.minimum', 'above maximum'],
    ['a pattern that does not compile', appManifest({ parameters: { properties: { steps: { type: 'string', default: 'a', pattern: '(' } } } }), 'app.parameters.properties.steps.pattern', 'not a valid regular expression'],
    ['a required name not declared', appManifest({ parameters: { properties: { steps: { type: 'integer', default: 1 } }, required: ['seed'] } }), 'app.parameters.required.0', 'not declared'],
    ['an app on a dataset product', appManifest({}, { category: 'dataset' }), 'app', 'cannot have an app section'],
    ['a dataset section on software', product({ dataset: { name: 'x', format: 'csv' } }), 'dataset', 'cannot have a dataset section'],
    ['a duplicate tag', product({ tags: ['hpc', 'hpc'] }), 'tags.1', 'listed twice'],
    ['files beyond the size cap', appManifest({ files: { 'run.py': 'x'.repeat(MAX_FILES_BYTES + 1) } }), 'app.files', 'at most 262144'],
    ['a file that is also a folder', appManifest({ files: { data: 'x', 'data/a.txt': 'y' } }), 'app.files.data/a.txt', 'inside data'],
    ['an unknown reference accelerator', appManifest({ referenceAccelerator: 'nvidia-a101' }), 'app.referenceAccelerator', 'unknown accelerator'],
  ];
  for (const [what, input, path, text] of CASES) {
    it(`rejects ${what}`, () => rejects(input, path, text));
  }

  it('counts file sizes in UTF-8 bytes', () => {
    const chinese = '算'.repeat(Math.floor(MAX_FILES_BYTES / 3) + 1); // 3 bytes each
    rejects(appManifest({ files: { 'a.txt': chinese } }), 'app.files', 'at most 262144');
  });
  it('suggests the nearest accelerator key', () => {
    const r = ManifestSchema.safeParse(appManifest({ adaptation: { 'nvidia-a100': row(1), 'nvidia-h10': row(1) } }));
    assert.ok(!r.success);
    assert.match(String((r.error.issues[0] as { params?: { hint?: string } }).params?.hint), /did you mean nvidia-h100\?/);
  });
  it('accepts a placeholder with spaces, in env too', () => {
    parsed(appManifest({ command: { cpu: ['python3', '{{ steps }}'], cuda: ['python3', '--steps={{steps}}'] }, env: { STEPS: '{{steps}}' } }));
  });
});
