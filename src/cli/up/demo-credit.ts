import { listVoucherPrograms, listGrants } from '../../store/billing.js';
import { createProgram } from '../../engine/billing/programs.js';
import { grantCredit, orgIdByName, walletOf, type Wallet } from '../../engine/billing/wallet.js';
import type { EngineContext } from '../../engine/context.js';

/** ¥10,000 of granted credit: a few hundred GPU-hours at the demo's list prices. */
export const DEMO_CREDIT_FEN = 1_000_000;
const DEMO_PROGRAM = 'demo-domestic-chips-30';
const YEAR_MS = 365 * 24 * 3_600_000;

/**
 * With billing on, `up`'s network is a trading center a new user can try at once: the platform org
 * (the admin's, whose token the CLI uses) gets ¥10,000 of demo credit the first time, and a demo voucher
 * program pays 30% of bills on domestic chips (the 910B in Zhongwei) for a year, as the compute
 * vouchers (算力券) of several provinces do. Both once: a restart adds nothing. Returns the org's wallet.
 */
export async function ensureDemoCredit(ctx: EngineContext): Promise<Wallet> {
  const db = ctx.store.db;
  const orgId = await orgIdByName(db, 'platform');
  if ((await listGrants(db, orgId)).length === 0) {
    await grantCredit(ctx, { org: 'platform', amountFen: DEMO_CREDIT_FEN });
  }
  if (!(await listVoucherPrograms(db)).some((p) => p.name === DEMO_PROGRAM)) {
    await createProgram(ctx, {
      name: DEMO_PROGRAM,
      funding: { kind: 'pool', total: 10_000_000 },
      coPayBps: 3000,
      scope: { domesticOnly: true },
      validUntil: ctx.now().getTime() + YEAR_MS,
    });
  }
  return walletOf(db, orgId, ctx.now().getTime());
}
