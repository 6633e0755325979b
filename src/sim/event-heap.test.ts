import { test } from 'node:test';
import assert from 'node:assert/strict';
import { seededRng, randomInt } from '../core/rng.js';
import { EventHeap } from './event-heap.js';

const drain = <T>(h: EventHeap<T>): T[] => {
  const out: T[] = [];
  for (let e = h.pop(); e !== undefined; e = h.pop()) out.push(e.item);
  return out;
};

test('events come out by time, earliest first', () => {
  const h = new EventHeap<string>();
  h.push(30, 'c');
  h.push(10, 'a');
  h.push(20, 'b');
  assert.equal(h.size, 3);
  assert.equal(h.peekTime(), 10);
  assert.deepEqual(h.peek(), { time: 10, seq: 1, item: 'a' });
  assert.deepEqual(drain(h), ['a', 'b', 'c']);
  assert.equal(h.pop(), undefined);
  assert.equal(h.peekTime(), Infinity);
});

test('equal times come out in the order they were pushed (stable)', () => {
  const h = new EventHeap<string>();
  for (const x of ['end-1', 'end-2', 'arrive-3', 'arrive-4', 'end-5']) h.push(100, x);
  h.push(50, 'early');
  assert.deepEqual(drain(h), ['early', 'end-1', 'end-2', 'arrive-3', 'arrive-4', 'end-5']);
});

test('matches a stable sort by (time, push order) on 10,000 random events, interleaved with pops', () => {
  const rng = seededRng(7);
  const h = new EventHeap<number>();
  const pending: { time: number; seq: number }[] = [];
  const popped: number[] = [];
  const expected: number[] = [];
  let seq = 0;
  for (let i = 0; i < 10_000; i++) {
    const time = randomInt(rng, 50); // many ties
    h.push(time, seq);
    pending.push({ time, seq });
    seq++;
    if (randomInt(rng, 3) === 0) {
      pending.sort((a, b) => a.time - b.time || a.seq - b.seq);
      expected.push(pending.shift()!.seq);
      popped.push(h.pop()!.item);
    }
  }
  pending.sort((a, b) => a.time - b.time || a.seq - b.seq);
  expected.push(...pending.map((p) => p.seq));
  popped.push(...drain(h));
  assert.deepEqual(popped, expected);
});

test('a time that is not finite is refused', () => {
  const h = new EventHeap<string>();
  assert.throws(() => h.push(NaN, 'x'), /finite time/);
  assert.throws(() => h.push(Infinity, 'x'), /finite time/);
});
