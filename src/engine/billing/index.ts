// The engine's billing (docs/billing.md): the hook points the shared engine files call, and the
// operations the API exposes.
export { admitSubmission } from './admission.js';
export { holdPlacements, releaseUnplaced } from './holds.js';
export { settleJobs, settingsOf, outcomeOf } from './settlement.js';
export { grantCredit, topUp, walletOf, orgIdByName } from './wallet.js';
export { setPriceBook, priceBookFor } from './price-books.js';
