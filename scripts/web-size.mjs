// The portal's first-page budget: what a browser downloads to show the first page, gzipped, must stay
// under 500 KB (issue 13). Measured from the build's own manifest (web/dist/.vite/manifest.json): the
// entry chunk with every chunk it imports statically and their CSS, plus index.html — the sign-in page;
// and the same with the store's chunks added — the first page a signed-in user sees. Lazy routes
// (launch, jobs, network, …) and ECharts are not part of either. Prints JSON on its last line; exits 1
// over budget. Usage: node scripts/web-size.mjs [dist folder]
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';

const LIMIT_BYTES = 500 * 1000;
const dist = process.argv[2] ?? 'web/dist';
const manifest = JSON.parse(readFileSync(join(dist, '.vite/manifest.json'), 'utf8'));
const gz = (file) => gzipSync(readFileSync(join(dist, file)), { level: 9 }).length;

/** Files of a chunk and of everything it imports statically. */
function closure(keys, seen = new Set()) {
  for (const key of keys) {
    const chunk = manifest[key];
    if (!chunk || seen.has(key)) continue;
    seen.add(key);
    closure(chunk.imports ?? [], seen);
  }
  const files = new Set();
  for (const key of seen) {
    files.add(manifest[key].file);
    for (const css of manifest[key].css ?? []) files.add(css);
  }
  return files;
}

const entry = Object.keys(manifest).find((k) => manifest[k].isEntry);
const store = Object.keys(manifest).find((k) => k.endsWith('pages/Store.tsx'));
if (!entry || !store) {
  console.error(`web-size: no entry or no Store page in ${dist}/.vite/manifest.json; build with npm run build:web`);
  process.exit(2);
}
const measure = (files) => [...files].reduce((n, f) => n + gz(f), gz('index.html'));
const signIn = measure(closure([entry]));
const storePage = measure(closure([entry, store]));
const total = Object.values(manifest).reduce((n, c) => n + gz(c.file), 0);
const kb = (n) => Math.round(n / 100) / 10;
console.log(`first page (sign-in): ${kb(signIn)} KB gzipped; store page after sign-in: ${kb(storePage)} KB; every chunk: ${kb(total)} KB; budget ${LIMIT_BYTES / 1000} KB`);
const ok = signIn <= LIMIT_BYTES && storePage <= LIMIT_BYTES;
console.log(JSON.stringify({ firstPageGzipBytes: signIn, storePageGzipBytes: storePage, allChunksGzipBytes: total, limitBytes: LIMIT_BYTES, ok }));
if (!ok) {
  console.error(`web-size: over the ${LIMIT_BYTES / 1000} KB budget; lazy-load what the first page does not need`);
  process.exit(1);
}
