import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mergeBySubmit } from './source.js';
import type { TraceJob } from './types.js';

const job = (id: string, submitAt: number): TraceJob => ({ id, submitAt, runSeconds: 1, requestedSeconds: 1, gpus: 1, homeCluster: id[0]!, status: 'completed' });

test('the merge streams: two endless sorted inputs give their first jobs in order, holding one per input', async () => {
  let closed = 0;
  async function* endless(prefix: string, step: number): AsyncGenerator<TraceJob> {
    try {
      for (let t = 0; ; t += step) yield job(`${prefix}${t}`, t);
    } finally {
      closed++;
    }
  }
  const out: string[] = [];
  for await (const j of mergeBySubmit([{ name: 'a', jobs: endless('a', 3) }, { name: 'b', jobs: endless('b', 2) }])) {
    out.push(j.id);
    if (out.length === 8) break;
  }
  // Ties (0, 6) go to the first input.
  assert.deepEqual(out, ['a0', 'b0', 'b2', 'a3', 'b4', 'a6', 'b6', 'b8']);
  assert.equal(closed, 2, 'stopping the merge closes every input');
});

test('the merge of no inputs, or of empty ones, is empty', async () => {
  const empty = async function* (): AsyncGenerator<TraceJob> {};
  const out: TraceJob[] = [];
  for await (const j of mergeBySubmit([])) out.push(j);
  for await (const j of mergeBySubmit([{ name: 'e', jobs: empty() }])) out.push(j);
  assert.deepEqual(out, []);
});
