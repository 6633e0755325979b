import { SuanwangError } from '../core/errors.js';
import type { Queryable } from './transaction.js';

/** What a NUL byte of output is stored and shown as: PostgreSQL text cannot hold U+0000. */
export const NUL_SHOWN_AS = '\u2400'; // ␀ SYMBOL FOR NULL

/**
 * Output text as PostgreSQL `text` can hold it: NUL becomes ␀ (U+2400) and lone surrogates U+FFFD
 * (the UTF-8 round trip replaces them). Everything else is kept as it is.
 */
export function storableText(bytes: Uint8Array): string {
  const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString('utf8');
  return text.includes('\0') ? text.replaceAll('\0', NUL_SHOWN_AS) : text;
}

/**
 * Job output as agents ship it: chunks keyed by byte offset per (job, attempt, stream). An agent that
 * restarts re-sends from offset 0 with other chunk boundaries, so a chunk is trimmed to the bytes
 * past what is stored before it is kept; bytes already stored are never stored twice. `byte_length`
 * counts the bytes the agent sent (its offsets), even where the stored text maps NUL to ␀; a chunk
 * that would leave a gap is refused (409 `log_gap`), and nothing of the report is written.
 */
export async function appendLogChunk(
  q: Queryable,
  chunk: { jobId: string; attempt: number; stream: 'stdout' | 'stderr'; offset: number; data: string; at: Date },
  /** Bytes the job may still store (its output cap less what it has); past it, the rest is cut. */
  budget = Infinity,
): Promise<number> {
  const last = await q
    .selectFrom('job_logs')
    .select((eb) => eb.fn.max(eb('byte_offset', '+', eb.ref('byte_length'))).as('end'))
    .where('job_id', '=', chunk.jobId)
    .where('attempt', '=', chunk.attempt)
    .where('stream', '=', chunk.stream)
    .executeTakeFirst();
  const storedEnd = Number(last?.end ?? 0);
  let bytes = Buffer.from(chunk.data, 'utf8');
  let offset = chunk.offset;
  if (offset + bytes.length <= storedEnd) return 0;
  if (budget <= 0) {
    // Checked before the gap: after a cut the agent's offsets run past what was stored.
    throw new SuanwangError('output_limit_reached', `job ${chunk.jobId} has stored all the output it may (its limit was reached); the rest is dropped`, {
      hint: 'stop shipping output of this run; raise the control plane\'s maxOutputBytesPerJob for larger outputs',
    });
  }
  if (offset > storedEnd) {
    // A gap would garble the output; only an agent that lost track of its offsets sends one.
    throw new SuanwangError('log_gap', `the ${chunk.stream} chunk at byte ${offset} leaves a gap after byte ${storedEnd}`, {
      field: 'chunks.offset',
      hint: `send ${chunk.stream} from byte ${storedEnd} (re-sending stored bytes is harmless)`,
    });
  }
  if (offset < storedEnd) {
    // Cut at the stored end, then past the rest of a character that the cut splits (continuation
    // bytes are 10xxxxxx): a row holds whole characters, exactly byte_length of them as UTF-8.
    let cut = storedEnd - offset;
    while (cut < bytes.length && (bytes[cut]! & 0xc0) === 0x80) cut++;
    bytes = bytes.subarray(cut);
    offset += cut;
    if (bytes.length === 0) return 0;
  }
  let cutAt: number | null = null;
  if (bytes.length > budget) {
    // Keep whole characters up to the budget: back off over continuation bytes (10xxxxxx).
    let keep = budget;
    while (keep > 0 && (bytes[keep]! & 0xc0) === 0x80) keep--;
    bytes = bytes.subarray(0, keep);
    cutAt = offset + keep;
  }
  const rows = [{ byte_offset: offset, byte_length: bytes.length, data: storableText(bytes) }];
  // The marker takes no bytes of the stream (its length is 0), so offsets stay the agent's.
  if (cutAt !== null) rows.push({ byte_offset: cutAt, byte_length: 0, data: OUTPUT_CUT_MARKER });
  for (const row of rows.filter((r) => r.byte_length > 0 || r.data === OUTPUT_CUT_MARKER)) {
    await q
      .insertInto('job_logs')
      .values({ job_id: chunk.jobId, attempt: chunk.attempt, stream: chunk.stream, ...row, at: chunk.at })
      .onConflict((oc) => oc.columns(['job_id', 'attempt', 'stream', 'byte_offset']).doNothing())
      .execute();
  }
  return bytes.length;
}

/** The line stored where a job's output was cut at its limit. */
export const OUTPUT_CUT_MARKER = '\n[suanwang: this job reached its output limit here; the rest of its output was dropped]\n';

/** Bytes of output a job has stored, over every attempt and stream (what its output cap counts). */
export async function storedOutputBytes(q: Queryable, jobId: string): Promise<number> {
  const row = await q
    .selectFrom('job_logs')
    .select((eb) => eb.fn.coalesce(eb.fn.sum<number>('byte_length'), eb.lit(0)).as('n'))
    .where('job_id', '=', jobId)
    .executeTakeFirst();
  return Number(row?.n ?? 0);
}

export interface LogLine {
  readonly seq: number;
  readonly attempt: number;
  readonly stream: 'stdout' | 'stderr';
  readonly data: string;
}

/**
 * Chunks after `afterSeq`, in the order they arrived: at most `limit` of them and about `maxBytes`
 * of text (always at least one chunk), so that a page stays small whatever a job printed. `more`
 * says whether chunks are left after the page.
 */
export async function readLogChunks(q: Queryable, jobId: string, afterSeq: number, limit: number, maxBytes = Infinity): Promise<{ chunks: LogLine[]; more: boolean }> {
  // Sizes first (octet_length does not read the text), then only the rows that fit.
  const sizes = await q
    .selectFrom('job_logs')
    .select(['seq', (eb) => eb.fn<number>('octet_length', ['data']).as('size')])
    .where('job_id', '=', jobId)
    .where('seq', '>', afterSeq)
    .orderBy('seq')
    .limit(limit + 1)
    .execute();
  let take = 0;
  let bytes = 0;
  while (take < Math.min(limit, sizes.length) && (take === 0 || bytes + Number(sizes[take]!.size) <= maxBytes)) {
    bytes += Number(sizes[take]!.size);
    take++;
  }
  if (take === 0) return { chunks: [], more: false };
  const chunks = await q
    .selectFrom('job_logs')
    .select(['seq', 'attempt', 'stream', 'data'])
    .where('job_id', '=', jobId)
    .where('seq', '>', afterSeq)
    .where('seq', '<=', sizes[take - 1]!.seq)
    .orderBy('seq')
    .execute();
  return { chunks, more: sizes.length > take };
}

/**
 * Deletes the output of jobs that ended before `endedBefore` (retention), at most `batch` rows per
 * call so that no transaction grows large; returns how many rows it deleted (call again while = batch).
 */
export async function deleteOutputOfJobsEndedBefore(q: Queryable, endedBefore: Date, batch: number): Promise<number> {
  const r = await q
    .deleteFrom('job_logs')
    .where('seq', 'in', (eb) =>
      eb
        .selectFrom('job_logs as l')
        .innerJoin('jobs as j', 'j.id', 'l.job_id')
        .select('l.seq')
        .where('j.state', 'in', ['succeeded', 'failed', 'cancelled'])
        .where('j.finished_at', '<', endedBefore)
        .limit(batch),
    )
    .executeTakeFirst();
  return Number(r.numDeletedRows);
}
