import type { AppManifest } from '../../src/catalog/manifest.js';

/** A version's manifest as the API returns it (`manifest: unknown` on the wire; the server validated it). */
export type Manifest = AppManifest;

export function asManifest(m: unknown): Manifest {
  return m as Manifest;
}

/** The provider's price terms in words. */
export function priceText(price: Manifest['price'], t: (k: 'price.free' | 'price.perRun' | 'price.perHour', v?: Record<string, string>) => string, yuan: (f: number) => string): string {
  switch (price.kind) {
    case 'free':
      return t('price.free');
    case 'per-run':
      return t('price.perRun', { fee: yuan(price.fen) });
    case 'per-hour':
      return t('price.perHour', { fee: yuan(price.fenPerHour) });
  }
}
