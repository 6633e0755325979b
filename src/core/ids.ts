import type { Clock } from './clock.js';
import type { Rng } from './rng.js';
import { randomInt } from './rng.js';

// Crockford base32: sortable, no ambiguous letters.
const ALPHABET = '0123456789abcdefghjkmnpqrstvwxyz';

export const ID_PREFIXES = {
  org: 'org',
  user: 'usr',
  token: 'tok',
  center: 'ctr',
  pool: 'pool',
  job: 'job',
  placement: 'plc',
  event: 'evt',
  dataset: 'ds',
  product: 'prd',
  version: 'ver',
  enrollment: 'enr',
  datasetVersion: 'dsv',
  transfer: 'xfr',
  endpoint: 'ep',
  replicationRule: 'rule',
} as const;
export type IdKind = keyof typeof ID_PREFIXES;

/**
 * A new id such as `job_01jd8x…`: the prefix names the kind, then 10 characters of time (ms) and
 * 12 of randomness, so ids sort by creation time (ULID-like), which cursor pagination relies on.
 */
export function newId(kind: IdKind, clock: Clock, rng: Rng): string {
  let time = Math.max(0, Math.floor(clock.now()));
  let timePart = '';
  for (let i = 0; i < 10; i++) {
    timePart = ALPHABET[time % 32] + timePart;
    time = Math.floor(time / 32);
  }
  let randomPart = '';
  for (let i = 0; i < 12; i++) randomPart += ALPHABET[randomInt(rng, 32)];
  return `${ID_PREFIXES[kind]}_${timePart}${randomPart}`;
}

/** True when `value` looks like an id of `kind` (shape only; existence is the store's business). */
export function isId(kind: IdKind, value: string): boolean {
  return new RegExp(`^${ID_PREFIXES[kind]}_[${ALPHABET}]{22}$`).test(value);
}
