import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SuanwangError } from '../core/errors.js';
import { appManifest, parsed, product, row } from './fixtures.js';
import { adaptedAccelerators, familiesOf, launchVariants, renderLaunch } from './render.js';
import { renderTemplate, scanTemplate } from './template.js';

const textApp = parsed(
  appManifest({
    parameters: { properties: { prompt: { type: 'string', default: 'hi' }, steps: { type: 'integer', default: 3 } } },
    command: {
      cpu: ['python3', 'gen.py', '--prompt', '{{prompt}}', '--out=run-{{steps}}.txt'],
      cann: ['python3', 'gen.py', '--prompt', '{{prompt}}', '--npu', '--steps', '{{ steps }}'],
    },
    env: { PROMPT_LEN: '{{steps}}', FIXED: 'yes' },
    adaptation: { 'ascend-910b': row(0.8), 'ascend-910c': row(0.9, 'community') },
  }),
);

describe('renderLaunch', () => {
  it('substitutes placeholders inside argv elements and env values', () => {
    const r = renderLaunch(textApp, 'cpu', { prompt: 'hello', steps: 3 });
    assert.deepEqual(r.command, ['python3', 'gen.py', '--prompt', 'hello', '--out=run-3.txt']);
    assert.deepEqual(r.env, { PROMPT_LEN: '3', FIXED: 'yes' });
    assert.deepEqual(r.files, { 'run.py': 'print("hi")\n' });
  });
  it('keeps a hostile value inside its one argument', () => {
    const evil = `x"; rm -rf / #' $(id) \`id\` --steps 999 $& $1`;
    const r = renderLaunch(textApp, 'cann', { prompt: evil, steps: 3 });
    assert.equal(r.command.length, 7);
    assert.equal(r.command[3], evil);
    assert.equal(r.command[6], '3');
  });
  it('keeps an empty value as an empty argument', () => {
    assert.deepEqual(renderLaunch(textApp, 'cpu', { prompt: '', steps: 3 }).command.slice(2, 4), ['--prompt', '']);
  });
  it('writes numbers and booleans in plain form', () => {
    assert.equal(renderTemplate('{{a}} {{b}} {{c}}', { a: 1e-7, b: 0.5, c: true }), '1e-7 0.5 true');
  });
  it('refuses a family the app has no command for, naming the ones it has', () => {
    assert.throws(
      () => renderLaunch(textApp, 'dtk', { prompt: 'x', steps: 1 }),
      (e: unknown) => e instanceof SuanwangError && e.code === 'invalid_request' && e.hint === 'its families: cann, cpu',
    );
  });
  it('refuses a product that is not an app', () => {
    assert.throws(() => renderLaunch(parsed(product({ category: 'saas' })), 'cpu', {}), /not a runnable app/);
  });
});

describe('launchVariants and helpers', () => {
  it('renders one variant per family, for the engine to pick at placement', () => {
    const v = launchVariants(textApp, { prompt: 'p', steps: 2 });
    assert.deepEqual(Object.keys(v), ['cann', 'cpu']);
    assert.deepEqual(v.cann?.command, ['python3', 'gen.py', '--prompt', 'p', '--npu', '--steps', '2']);
    assert.deepEqual(v.cpu?.env, { PROMPT_LEN: '2', FIXED: 'yes' });
  });
  it('lists families in table order and adapted chips with efficiencies', () => {
    assert.deepEqual(familiesOf(textApp), ['cann', 'cpu']);
    assert.deepEqual(adaptedAccelerators(textApp), { 'ascend-910b': 0.8, 'ascend-910c': 0.9 });
    assert.deepEqual(familiesOf(parsed(product())), []);
    assert.deepEqual(adaptedAccelerators(parsed(product())), {});
  });
});

describe('scanTemplate', () => {
  it('finds names once each and flags broken braces', () => {
    assert.deepEqual(scanTemplate('{{a}}-{{ b }}-{{a}}'), { names: ['a', 'b'], malformed: null });
    assert.notEqual(scanTemplate('{{a}').malformed, null);
    assert.notEqual(scanTemplate('x }} y').malformed, null);
    assert.notEqual(scanTemplate('{{1a}}').malformed, null);
    assert.equal(scanTemplate('{a} {b}').malformed, null);
  });
});
