import { createHash, randomBytes } from 'node:crypto';

/**
 * A new token secret such as `sw_u_…` (user), `sw_a_…` (agent) or `swe_…` (enrollment, exchanged
 * once for an agent token): 32 random bytes, base64url.
 */
export function newSecret(kind: 'user' | 'agent' | 'enrollment'): string {
  const prefix = kind === 'enrollment' ? 'swe' : `sw_${kind === 'user' ? 'u' : 'a'}`;
  return `${prefix}_${randomBytes(32).toString('base64url')}`;
}

/** What the store keeps of a secret: SHA-256, hex. A high-entropy secret needs no slow hash. */
export function hashSecret(secret: string): string {
  return createHash('sha256').update(secret).digest('hex');
}
