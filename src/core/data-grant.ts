import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * A data grant: what the control plane lets one caller do at one center's data port, signed with
 * the key that center's agent chose at registration (HMAC-SHA256). The data port checks it without
 * asking anyone, so it needs no users of its own. A grant names one dataset version and one mode.
 */
export interface DataGrant {
  /** The center whose data port honours it. */
  readonly center: string;
  readonly version: string;
  /** `r`: read the version's chunks; `w`: add chunks for it (an upload or a transfer in). */
  readonly mode: 'r' | 'w';
  /** Epoch ms after which it is refused. */
  readonly expiresAt: number;
}

const encode = (s: string) => Buffer.from(s, 'utf8').toString('base64url');

/** `payload.signature`, both base64url. */
export function signGrant(grant: DataGrant, key: string): string {
  const payload = encode(JSON.stringify({ c: grant.center, v: grant.version, m: grant.mode, e: grant.expiresAt }));
  return `${payload}.${createHmac('sha256', key).update(payload).digest('base64url')}`;
}

/** The grant a token carries when its signature holds and it has not expired at `now`; else why not. */
export function verifyGrant(token: string, key: string, now: number): DataGrant | { readonly refused: string } {
  const dot = token.indexOf('.');
  if (dot < 0) return { refused: 'not a data grant' };
  const payload = token.slice(0, dot);
  const given = Buffer.from(token.slice(dot + 1), 'base64url');
  const want = createHmac('sha256', key).update(payload).digest();
  if (given.length !== want.length || !timingSafeEqual(given, want)) return { refused: 'the grant is not signed for this center' };
  let raw: { c?: unknown; v?: unknown; m?: unknown; e?: unknown };
  try {
    raw = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as typeof raw;
  } catch {
    return { refused: 'not a data grant' };
  }
  if (typeof raw.c !== 'string' || typeof raw.v !== 'string' || (raw.m !== 'r' && raw.m !== 'w') || typeof raw.e !== 'number') return { refused: 'not a data grant' };
  if (raw.e <= now) return { refused: 'the grant has expired; ask the control plane for a new one' };
  return { center: raw.c, version: raw.v, mode: raw.m, expiresAt: raw.e };
}
