/** An amount of money in fen (0.01 CNY). Always a safe integer: money is never floating point. */
export type Fen = number & { readonly __unit: 'fen' };

/** Checks that `n` is a safe integer and brands it as fen. */
export function fen(n: number): Fen {
  if (!Number.isSafeInteger(n)) throw new RangeError(`money must be a whole number of fen, got ${n}`);
  return n as Fen;
}

/** `12345` → `¥123.45` (negative amounts keep their sign). */
export function formatFen(amount: Fen | number): string {
  const sign = amount < 0 ? '-' : '';
  const abs = Math.abs(amount);
  const yuan = Math.floor(abs / 100);
  const cents = String(abs % 100).padStart(2, '0');
  return `${sign}¥${yuan.toLocaleString('en-US')}.${cents}`;
}

/**
 * The price of `quantity` units at `fenPerUnit`, rounded half up to a whole fen. The quantity may be
 * fractional (hours, kWh); the rate and the result are integers.
 */
export function priceOf(fenPerUnit: Fen | number, quantity: number): Fen {
  if (!Number.isSafeInteger(fenPerUnit)) throw new RangeError(`a rate must be whole fen, got ${fenPerUnit}`);
  return fen(Math.round(fenPerUnit * quantity));
}
