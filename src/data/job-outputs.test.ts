import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkJobOutputs, MAX_JOB_OUTPUTS, parseOutputFlag } from './job-outputs.js';

/** Asserts `fn` throws invalid_field naming `field`, with `value` in its message. */
function refused(fn: () => unknown, field: string, value?: string): void {
  assert.throws(fn, (e: Error & { code?: string; field?: string }) => {
    assert.equal(e.code, 'invalid_field', e.message);
    assert.equal(e.field, field, e.message);
    if (value !== undefined) assert.ok(e.message.includes(value), e.message);
    return true;
  });
}

describe('checkJobOutputs', () => {
  it('gives each output its dir, outputs/NAME by default, spelled one way', () => {
    assert.deepEqual(checkJobOutputs([{ dataset: 'corpus' }, { dataset: 'model.v2', dir: 'ckpt/final/' }, { dataset: 'logs_1', dir: 'a/b' }]), [
      { dataset: 'corpus', dir: 'outputs/corpus' },
      { dataset: 'model.v2', dir: 'ckpt/final' },
      { dataset: 'logs_1', dir: 'a/b' },
    ]);
    assert.deepEqual(checkJobOutputs([]), []);
  });

  it('refuses a dir outside the workdir, naming outputs[i].dir and the value', () => {
    for (const dir of ['/etc', '/', '../x', 'a/../../b', 'a/..', './a', 'a//b', '', '.', 'a\\b', 'a\u0000b']) {
      refused(() => checkJobOutputs([{ dataset: 'ok' }, { dataset: 'out', dir }]), 'outputs[1].dir');
    }
    refused(() => checkJobOutputs([{ dataset: 'out', dir: '../up' }]), 'outputs[0].dir', '"../up"');
  });

  it("refuses the job's read-only inputs/ as an output dir", () => {
    refused(() => checkJobOutputs([{ dataset: 'out', dir: 'inputs' }]), 'outputs[0].dir', 'inputs');
    refused(() => checkJobOutputs([{ dataset: 'out', dir: 'inputs/corpus/x' }]), 'outputs[0].dir');
    assert.deepEqual(checkJobOutputs([{ dataset: 'out', dir: 'inputs2' }]), [{ dataset: 'out', dir: 'inputs2' }]);
  });

  it('refuses a dataset name the dataset rules refuse, and the same dataset twice', () => {
    for (const name of ['', '-x', '.hidden', 'a/b', 'a b', 'x'.repeat(129), 'ü']) {
      refused(() => checkJobOutputs([{ dataset: name }]), 'outputs[0].dataset');
    }
    refused(() => checkJobOutputs([{ dataset: 'a' }, { dataset: 'b' }, { dataset: 'a', dir: 'other' }]), 'outputs[2].dataset', 'twice');
    assert.equal(checkJobOutputs([{ dataset: 'x'.repeat(128) }]).length, 1);
  });

  it('takes at most MAX_JOB_OUTPUTS outputs', () => {
    const many = Array.from({ length: MAX_JOB_OUTPUTS + 1 }, (_, i) => ({ dataset: `d${i}` }));
    refused(() => checkJobOutputs(many), 'outputs');
    assert.equal(checkJobOutputs(many.slice(1)).length, MAX_JOB_OUTPUTS);
  });
});

describe('parseOutputFlag', () => {
  it('splits NAME[:DIR] at the first colon', () => {
    assert.deepEqual(parseOutputFlag('corpus'), { dataset: 'corpus' });
    assert.deepEqual(parseOutputFlag('corpus:out/c'), { dataset: 'corpus', dir: 'out/c' });
    assert.deepEqual(parseOutputFlag('corpus:a:b'), { dataset: 'corpus', dir: 'a:b' });
    assert.deepEqual(parseOutputFlag('corpus:'), { dataset: 'corpus', dir: '' });
  });
});
