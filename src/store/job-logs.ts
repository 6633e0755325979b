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
  await q
    .insertInto('job_logs')
    .values({
      job_id: chunk.jobId,
      attempt: chunk.attempt,
      stream: chunk.stream,
      byte_offset: offset,
      byte_length: bytes.length,
      data: storableText(bytes),
      at: chunk.at,
    })
    .onConflict((oc) => oc.columns(['job_id', 'attempt', 'stream', 'byte_offset']).doNothing())
    .execute();
  return bytes.length;
}

export interface LogLine {
  readonly seq: number;
  readonly attempt: number;
  readonly stream: 'stdout' | 'stderr';
  readonly data: string;
}

/** Chunks after `afterSeq`, in the order they arrived. */
export async function readLogChunks(q: Queryable, jobId: string, afterSeq: number, limit: number): Promise<LogLine[]> {
  return q
    .selectFrom('job_logs')
    .select(['seq', 'attempt', 'stream', 'data'])
    .where('job_id', '=', jobId)
    .where('seq', '>', afterSeq)
    .orderBy('seq')
    .limit(limit)
    .execute();
}
