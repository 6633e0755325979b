import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatPath, parseManifest, type ManifestError } from './validate-manifest.js';

// Line numbers in the cases below refer to this text (line 1 is `name: md-lj`).
const GOOD = `name: md-lj
title: Lennard-Jones MD
summary: A small molecular-dynamics run.
category: software
licence: Apache-2.0
version: 1.0.0
app:
  parameters:
    properties:
      steps: { type: integer, default: 100, minimum: 1 }
  command:
    cpu: [python3, md.py, --steps, "{{steps}}"]
    cann: [python3, md.py, --steps, "{{steps}}", --npu]
  adaptation:
    ascend-910b: { efficiency: 0.8, level: verified }
  files:
    md.py: |
      print("hello")
`;

function errorsOf(text: string): ManifestError[] {
  const r = parseManifest(text);
  assert.ok(!r.ok, 'expected errors');
  return [...r.errors];
}
function only(text: string): ManifestError {
  const errors = errorsOf(text);
  assert.equal(errors.length, 1, JSON.stringify(errors, null, 1));
  return errors[0]!;
}

describe('parseManifest', () => {
  it('parses a good manifest', () => {
    const r = parseManifest(GOOD);
    assert.ok(r.ok, JSON.stringify(!r.ok && r.errors));
    assert.equal(r.manifest.app?.files['md.py'], 'print("hello")\n');
    assert.deepEqual(r.manifest.app?.command.cann, ['python3', 'md.py', '--steps', '{{steps}}', '--npu']);
  });

  it('points a bad value at its own line and column', () => {
    const e = only(GOOD.replace('efficiency: 0.8', 'efficiency: -0.8'));
    assert.deepEqual(e, {
      line: 15,
      column: 32,
      path: 'app.adaptation.ascend-910b.efficiency',
      message: 'must be above 0 (leave the accelerator out to mark it unsupported) (got number -0.8)',
    });
  });

  it('points a cross-field error at the key it is about', () => {
    const e = only(GOOD.replace('    cann: [python3, md.py, --steps, "{{steps}}", --npu]\n', ''));
    assert.equal(e.path, 'app.adaptation.ascend-910b');
    assert.deepEqual([e.line, e.column], [14, 5]);
    assert.equal(e.message, 'ascend-910b is a cann accelerator, but app.command has no cann command');
    assert.equal(e.hint, 'add app.command.cann, or remove ascend-910b from app.adaptation');
  });

  it('reports a misspelt field and the missing one it stands for', () => {
    const errors = errorsOf(GOOD.replace('licence: Apache-2.0', 'license: Apache-2.0'));
    assert.deepEqual(
      errors.map((e) => [e.line, e.column, e.path, e.message, e.hint]),
      [
        [1, 1, 'licence', 'licence is required (string)', undefined],
        [5, 1, 'license', 'unknown field license', `did you mean licence? fields here: name, title, summary, description, category, tags, licence, homepage, visibility, price, version, app, dataset`],
      ],
    );
  });

  it('points a missing nested field at its parent key', () => {
    const e = only(GOOD.replace('efficiency: 0.8, ', ''));
    assert.deepEqual([e.line, e.column, e.path, e.message], [15, 5, 'app.adaptation.ascend-910b.efficiency', 'efficiency is required (number)']);
  });

  it('suggests keywords of the parameter type at hand', () => {
    const e = only(GOOD.replace('minimum: 1 }', 'minimum: 1, minLength: 2 }'));
    assert.equal(e.path, 'app.parameters.properties.steps.minLength');
    assert.deepEqual([e.line, e.column], [10, 57]);
    assert.equal(e.hint, 'fields here: type, title, description, default, enum, minimum, maximum');
  });

  it('says how to quote a number YAML read for a string', () => {
    const e = only(GOOD.replace('version: 1.0.0', 'version: 1.0'));
    assert.deepEqual([e.line, e.column, e.path], [6, 10, 'version']);
    assert.equal(e.message, 'expected string, got number 1.0');
    assert.equal(e.hint, 'YAML reads 1.0 as a number; quote it: "1.0"');
  });

  it('catches an unquoted {{placeholder}} before it becomes a mapping', () => {
    const e = only(GOOD.replace('--steps, "{{steps}}", --npu]', '--steps, {{steps}}, --npu]'));
    assert.deepEqual([e.line, e.column], [13, 37]);
    assert.equal(e.hint, 'quote template strings: "{{steps}}"');
  });

  it('names list elements by index and odd keys in brackets', () => {
    const placeholder = only(GOOD.replace('"{{steps}}", --npu]', '"{{stepz}}", --npu]'));
    assert.deepEqual([placeholder.line, placeholder.column, placeholder.path], [13, 37, 'app.command.cann[3]']);
    assert.equal(placeholder.message, 'placeholder {{stepz}} names no parameter');
    assert.equal(placeholder.hint, 'did you mean {{steps}}? declared: steps');
    const file = only(GOOD.replace('md.py: |', '"../md.py": |'));
    assert.deepEqual([file.line, file.column, file.path], [17, 5, 'app.files["../md.py"]']);
    assert.match(file.message, /^"\.\.\/md\.py" is not a valid name here: a relative path/);
  });

  it('reports YAML syntax errors with their position', () => {
    const e = only(GOOD.replace('summary: A small', 'summary: [A small'));
    assert.equal(e.path, '');
    assert.ok(e.message.startsWith('YAML: '));
    assert.ok(e.line >= 3);
  });

  it('rejects duplicate keys, several documents, an empty file and a scalar', () => {
    const dup = only(`${GOOD}name: again\n`);
    assert.deepEqual([dup.line, dup.column, dup.hint], [19, 1, 'each field may appear once; remove or merge the repeated key']);
    assert.match(only(`${GOOD}---\nname: x\n`).message, /multiple documents/);
    assert.equal(only('').message, 'the manifest is empty');
    assert.equal(only('# nothing\n').message, 'the manifest is empty');
    assert.match(only('just text\n').message, /expected object/);
  });

  it('returns every error sorted by position', () => {
    const errors = errorsOf(GOOD.replace('name: md-lj', 'name: MD').replace('efficiency: 0.8', 'efficiency: 0').replace('category: software', 'category: app'));
    assert.deepEqual(
      errors.map((e) => e.line),
      [1, 4, 15],
    );
  });

  it('refuses an oversized manifest without parsing it', () => {
    assert.match(only('x'.repeat(1024 * 1024 + 1)).message, /at most 1048576/);
  });
});

describe('formatPath', () => {
  it('joins plain keys with dots, indices and odd keys with brackets', () => {
    assert.equal(formatPath(['app', 'adaptation', 'ascend-910b', 'efficiency']), 'app.adaptation.ascend-910b.efficiency');
    assert.equal(formatPath(['app', 'command', 'cpu', 2]), 'app.command.cpu[2]');
    assert.equal(formatPath(['app', 'files', 'corpus/a.txt']), 'app.files["corpus/a.txt"]');
    assert.equal(formatPath([]), '');
  });
});
