// Metering rules: what a job holds at placement, what its end posts, and which endings the user
// does not pay for. Usage events from agents are idempotent by event id: a retried report is
// recognised and changes nothing; the same id with different content is a conflict, not a retry.
import { fen, type Fen } from '../core/money.js';
import { SuanwangError } from '../core/errors.js';
import { chargeFor, maxChargeFor, type Bill, type PriceBookVersion, type Usage } from './pricing.js';

/** One report from an agent about one attempt of a job. */
export interface UsageEvent {
  readonly eventId: string;
  readonly jobId: string;
  readonly attempt: number;
  readonly kind: 'started' | 'ended';
  /** Epoch ms at the center. */
  readonly at: number;
  readonly nodes: number;
}

/** The events applied so far, by id (a job's meter is rebuilt from its events). */
export interface MeterState {
  readonly events: ReadonlyMap<string, UsageEvent>;
}

export const EMPTY_METER: MeterState = { events: new Map() };

/**
 * Applies `event` once: a retry with the same id and content returns the state unchanged with
 * `duplicate: true`; the same id with other content throws `idempotency_key_reused`.
 */
export function applyUsageEvent(state: MeterState, event: UsageEvent): { readonly state: MeterState; readonly duplicate: boolean } {
  const seen = state.events.get(event.eventId);
  if (seen) {
    if (sameEvent(seen, event)) return { state, duplicate: true };
    throw new SuanwangError('idempotency_key_reused', `usage event ${event.eventId} was already recorded with other content`, {
      field: 'eventId',
      hint: 'give every distinct usage report its own event id; resend a report only with the same id and content',
    });
  }
  const events = new Map(state.events);
  events.set(event.eventId, event);
  return { state: { events }, duplicate: false };
}

function sameEvent(a: UsageEvent, b: UsageEvent): boolean {
  return a.jobId === b.jobId && a.attempt === b.attempt && a.kind === b.kind && a.at === b.at && a.nodes === b.nodes;
}

/** The run of one attempt as its events tell it: the first start and the last end (undefined when not both known). */
export function runOf(state: MeterState, jobId: string, attempt: number): { readonly startedAt: number; readonly endedAt: number } | undefined {
  let startedAt: number | undefined;
  let endedAt: number | undefined;
  for (const e of state.events.values()) {
    if (e.jobId !== jobId || e.attempt !== attempt) continue;
    if (e.kind === 'started') startedAt = startedAt === undefined ? e.at : Math.min(startedAt, e.at);
    else endedAt = endedAt === undefined ? e.at : Math.max(endedAt, e.at);
  }
  return startedAt === undefined || endedAt === undefined ? undefined : { startedAt, endedAt: Math.max(startedAt, endedAt) };
}

/** The hold placed when a job is placed: the largest bill its walltime can reach at `book` (see maxChargeFor). */
export function holdFor(request: Pick<Usage, 'nodes' | 'perNode'>, walltimeMs: number, book: PriceBookVersion): Fen {
  return maxChargeFor(request, walltimeMs, book);
}

/**
 * How an attempt ended, for billing. Charged: the user's program ran (succeeded, failed by its own
 * exit, timed out, or cancelled by the user while running: the time used). Not charged: the
 * platform's failures (requeue, infrastructure failure, lost agent) and a cancellation before start.
 */
export const OUTCOMES = {
  succeeded: { charged: true },
  'failed-by-program': { charged: true },
  'timed-out': { charged: true },
  'cancelled-while-running': { charged: true },
  requeued: { charged: false },
  'infrastructure-failure': { charged: false },
  'agent-lost': { charged: false },
  'cancelled-before-start': { charged: false },
} as const;
export type Outcome = keyof typeof OUTCOMES;

export type SettlementReason =
  | 'charged-actual-use'
  | 'capped-at-hold'
  | 'not-charged-platform-failure'
  | 'not-charged-requeue'
  | 'not-charged-before-start'
  | 'no-usage-reported';

/** What the end of an attempt does to its hold: post `post`, void `void` (they add up to the hold). */
export interface Settlement {
  readonly post: Fen;
  readonly void: Fen;
  readonly reason: SettlementReason;
  /** The bill of the actual use, when the outcome is charged and usage was reported. */
  readonly bill: Bill | null;
}

/**
 * Settles one attempt's hold: a charged outcome posts the actual bill, never more than the hold;
 * any other outcome posts nothing. `post + void = hold` always, both >= 0.
 */
export function settlement(outcome: Outcome, hold: Fen, usage: Usage | null, book: PriceBookVersion): Settlement {
  if (!Number.isSafeInteger(hold) || hold < 0) throw new SuanwangError('invalid_field', `hold is ${hold}`, { field: 'hold', hint: 'a hold is whole fen >= 0' });
  const none = (reason: SettlementReason): Settlement => ({ post: fen(0), void: hold, reason, bill: null });
  if (!OUTCOMES[outcome].charged) {
    if (outcome === 'requeued') return none('not-charged-requeue');
    if (outcome === 'cancelled-before-start') return none('not-charged-before-start');
    return none('not-charged-platform-failure');
  }
  if (usage === null) return none('no-usage-reported');
  const bill = chargeFor(usage, book);
  const post = Math.min(bill.total, hold);
  return { post: fen(post), void: fen(hold - post), reason: bill.total > hold ? 'capped-at-hold' : 'charged-actual-use', bill };
}
