// Billing over HTTP (docs/billing.md): the wallet, usage and statements for users; top-ups,
// grants, price books, voucher programs and app prices for admins (app prices also for providers).
import { z } from 'zod';
import { SuanwangError } from '../../core/errors.js';
import { requireUser } from '../../engine/accounts.js';
import { grantCredit, orgIdByName, setPriceBook, topUp, walletOf } from '../../engine/billing/index.js';
import { createProgram, issueVoucherCodes, MAX_CODES_PER_REQUEST, redeemCode, setProductPrice } from '../../engine/billing/programs.js';
import { createBudget } from '../../engine/billing/budgets.js';
import { payout, refund } from '../../engine/billing/payouts.js';
import { monthRange, statementOf, usageCsv, usageReport, USAGE_GROUPS, vouchersFor } from '../../engine/billing/reports.js';
import { chargesOfJob } from '../../store/job-charges.js';
import { route } from '../route.js';
import { getVisibleJob } from '../../engine/jobs.js';
import { priceQuote } from '../../engine/billing/price-quote.js';
import { BudgetList, JobSubmission, UsageReport, VoucherList, WalletResource } from '../client/schemas.js';
import { listBudgetAlerts, listBudgets } from '../../store/billing.js';
import { spentInPeriod } from '../../engine/billing/admission.js';
import { periodOf } from '../../ledger/budgets.js';

const Fen = z.int().min(0).max(Number.MAX_SAFE_INTEGER);
const PositiveFen = z.int().min(1).max(Number.MAX_SAFE_INTEGER);
const When = z.union([z.iso.datetime({ offset: true }), z.int()]).transform((v) => (typeof v === 'number' ? v : Date.parse(v)));

const MoneyOutResource = z.object({ transferId: z.string(), account: z.string(), amount: z.int(), balance: z.int() }).meta({ id: 'MoneyOut' });

const walletView = (org: string, w: Awaited<ReturnType<typeof walletOf>>) => ({
  org,
  paidFen: w.paid,
  grantedFen: w.granted,
  heldFen: w.held,
  availableFen: w.available,
  grants: w.grants.map((g) => ({ ...g, expiresAt: g.expiresAt === null ? null : new Date(g.expiresAt).toISOString() })),
});

const orgNameOf = async (db: Parameters<typeof orgIdByName>[0], id: string) => (await db.selectFrom('orgs').select('name').where('id', '=', id).executeTakeFirstOrThrow()).name;

const Rates = z.strictObject({ fenPerAcceleratorHour: Fen, fenPerCoreHour: Fen, fenPerGiBHour: Fen.default(0) });
const AppPriceSchema = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('free') }),
  z.strictObject({ kind: z.literal('per-run'), fen: Fen }),
  z.strictObject({ kind: z.literal('per-hour'), fenPerHour: Fen }),
]);
const Shares = z.strictObject({ providerBps: z.int().min(0).max(10_000), centerBps: z.int().min(0).max(10_000), operatorBps: z.int().min(0).max(10_000) });

export const billingRoutes = [
  route({
    method: 'get',
    path: '/v1/wallet',
    summary: "Your org's wallet: paid and granted credit, held for placed jobs, available (fen).",
    tag: 'billing',
    access: 'user',
    query: z.strictObject({ org: z.string().optional() }),
    response: { status: 200, schema: WalletResource },
    async handle({ ctx, principal, query }) {
      const user = requireUser(principal!);
      let orgId = user.orgId;
      if (query.org !== undefined) {
        orgId = await orgIdByName(ctx.store.db, query.org);
        if (orgId !== user.orgId && user.role !== 'admin') throw new SuanwangError('forbidden', `the wallet of ${query.org} is not yours`, { field: 'org' });
      }
      return walletView(await orgNameOf(ctx.store.db, orgId), await walletOf(ctx.store.db, orgId, ctx.now().getTime()));
    },
  }),
  route({
    method: 'post',
    path: '/v1/top-ups',
    summary: "Add paid credit to an org's wallet (admins); a repeated `reference` changes nothing.",
    tag: 'billing',
    access: 'admin',
    body: z.strictObject({ org: z.string().min(1), amountFen: PositiveFen, reference: z.string().min(1).max(64).optional() }),
    response: { status: 201, schema: WalletResource },
    async handle({ ctx, body }) {
      return walletView(body.org, await topUp(ctx, body.org, body.amountFen, body.reference));
    },
  }),
  route({
    method: 'post',
    path: '/v1/payouts',
    summary: "Pay out what a center, a provider or the operator earned (earnings → world); never more than earned and not yet paid (admins).",
    tag: 'billing',
    access: 'admin',
    body: z.strictObject({
      payee: z.discriminatedUnion('kind', [z.strictObject({ kind: z.literal('center'), name: z.string().min(1) }), z.strictObject({ kind: z.literal('provider'), name: z.string().min(1) }), z.strictObject({ kind: z.literal('operator') })]),
      amountFen: PositiveFen,
      reference: z.string().min(1).max(64).optional(),
    }),
    response: { status: 201, schema: MoneyOutResource },
    async handle({ ctx, body }) {
      return payout(ctx, body.payee, body.amountFen, body.reference);
    },
  }),
  route({
    method: 'post',
    path: '/v1/refunds',
    summary: "Refund part of an org's paid credit (not held for jobs; granted credit is not refundable) (admins).",
    tag: 'billing',
    access: 'admin',
    body: z.strictObject({ org: z.string().min(1), amountFen: PositiveFen, reference: z.string().min(1).max(64).optional() }),
    response: { status: 201, schema: MoneyOutResource },
    async handle({ ctx, body }) {
      return refund(ctx, body.org, body.amountFen, body.reference);
    },
  }),
  route({
    method: 'post',
    path: '/v1/grants',
    summary: 'Grant credit to an org, with priority (lower is spent first) and expiry; spent before paid credit (admins).',
    tag: 'billing',
    access: 'admin',
    body: z.strictObject({ org: z.string().min(1), amountFen: PositiveFen, priority: z.int().min(0).max(1000).optional(), expiresAt: When.optional(), programId: z.string().optional() }),
    response: { status: 201, schema: WalletResource },
    async handle({ ctx, body }) {
      return walletView(body.org, await grantCredit(ctx, body));
    },
  }),
  route({
    method: 'post',
    path: '/v1/price-books',
    summary: "Add the next version of a pool's price book, effective now or later (admins).",
    tag: 'billing',
    access: 'admin',
    body: z.strictObject({
      center: z.string(),
      pool: z.string(),
      rates: Rates,
      timeOfUse: z.strictObject({ factorsBps: z.array(z.int().min(0)).length(24), utcOffsetHours: z.number() }).nullable().optional(),
      billingWeights: z
        .strictObject({ milliPerAccelerator: z.record(z.string(), z.int().min(0)), milliPerCore: z.int().min(0), milliPerGiB: z.int().min(0), mode: z.enum(['sum', 'max']) })
        .nullable()
        .optional(),
      effectiveFrom: When.optional(),
    }),
    response: { status: 201, schema: z.object({ pool: z.string(), version: z.int(), effectiveFrom: z.string() }) },
    async handle({ ctx, body }) {
      const book = await setPriceBook(ctx, { ...body, rates: { fenPerAcceleratorHour: body.rates.fenPerAcceleratorHour, fenPerCoreHour: body.rates.fenPerCoreHour, fenPerGiBHour: body.rates.fenPerGiBHour } } as Parameters<typeof setPriceBook>[1]);
      return { pool: `${body.center}/${body.pool}`, version: book.version, effectiveFrom: new Date(book.effectiveFrom).toISOString() };
    },
  }),
  route({
    method: 'post',
    path: '/v1/voucher-programs',
    summary: 'Create a voucher program (算力券): funding, co-pay share, scope, validity, per-org annual cap (admins).',
    tag: 'billing',
    access: 'admin',
    body: z.strictObject({
      name: z.string().min(1).max(128),
      funding: z.discriminatedUnion('kind', [z.strictObject({ kind: z.literal('per-voucher'), faceValue: Fen }), z.strictObject({ kind: z.literal('pool'), total: Fen })]),
      coPayBps: z.int().min(0).max(10_000),
      coPayBpsByCategory: z.record(z.string(), z.int().min(0).max(10_000)).optional(),
      scope: z.strictObject({ domesticOnly: z.boolean().optional(), categories: z.array(z.string()).optional(), regions: z.array(z.string()).optional(), centers: z.array(z.string()).optional() }).optional(),
      validFrom: When.optional(),
      validUntil: When,
      orgAnnualCap: Fen.nullable().optional(),
      enrolment: z.enum(['open', 'by-code']).optional(),
    }),
    response: { status: 201, schema: z.object({ id: z.string(), name: z.string() }) },
    async handle({ ctx, body }) {
      const p = await createProgram(ctx, body);
      return { id: p.id, name: p.name };
    },
  }),
  route({
    method: 'post',
    path: '/v1/budgets',
    summary: "Set a budget for an org over a month (UTC+8 by default) or a window; alerts at thresholds, a hard stop at submission (admins).",
    tag: 'billing',
    access: 'admin',
    body: z.strictObject({
      org: z.string().min(1),
      limitFen: Fen,
      period: z
        .discriminatedUnion('kind', [z.strictObject({ kind: z.literal('month'), utcOffsetHours: z.number().min(-14).max(14).optional() }), z.strictObject({ kind: z.literal('window'), from: When, until: When })])
        .optional(),
      thresholdsBps: z.array(z.int().min(1).max(100_000)).max(16).optional(),
      onExhaustion: z.enum(['finish', 'stop-at-limit']).optional(),
      project: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, 'a project name: letters, digits, . _ - (up to 64)').optional(),
    }),
    response: { status: 201, schema: z.object({ id: z.string(), org: z.string(), limitFen: z.int() }) },
    async handle({ ctx, body }) {
      const b = await createBudget(ctx, body);
      return { id: b.id, org: body.org, limitFen: b.limit };
    },
  }),
  route({
    method: 'get',
    path: '/v1/budgets',
    summary: "Your org's budgets: the current period, what is spent or held in it, and the alert thresholds that have fired.",
    tag: 'billing',
    access: 'user',
    response: { status: 200, schema: BudgetList },
    async handle({ ctx, principal }) {
      const user = requireUser(principal!);
      const now = ctx.now().getTime();
      const db = ctx.store.db;
      const items = [];
      for (const b of await listBudgets(db, user.orgId)) {
        const period = periodOf(b, now);
        items.push({
          id: b.id,
          project: b.projectId,
          limitFen: b.limit,
          period: b.period.kind,
          periodFrom: period ? new Date(period.from).toISOString() : null,
          periodUntil: period ? new Date(period.until).toISOString() : null,
          spentFen: period ? await spentInPeriod(db, user.orgId, b, now) : 0,
          thresholdsBps: [...b.thresholdsBps],
          firedBps: period ? (await listBudgetAlerts(db, b.id, period.from)).map((a) => a.thresholdBps) : [],
          onExhaustion: b.onExhaustion,
        });
      }
      return { items };
    },
  }),
  route({
    method: 'get',
    path: '/v1/vouchers',
    summary: 'Voucher programs valid now, with what your org has redeemed and what is left for it.',
    tag: 'billing',
    access: 'user',
    response: { status: 200, schema: VoucherList },
    async handle({ ctx, principal }) {
      const user = requireUser(principal!);
      return { items: await vouchersFor(ctx.store.db, user.orgId, ctx.now().getTime()) };
    },
  }),
  route({
    method: 'post',
    path: '/v1/vouchers/redeem',
    summary: "Redeem a voucher code for your org: from then on its program pays its share of your org's eligible bills.",
    tag: 'billing',
    access: 'user',
    body: z.strictObject({ code: z.string().min(1).max(64) }),
    response: { status: 201, schema: z.object({ program: z.string(), coPayBps: z.int(), validUntil: z.string() }) },
    async handle({ ctx, principal, body }) {
      const p = await redeemCode(ctx, requireUser(principal!), body.code);
      return { program: p.name, coPayBps: p.coPayBps, validUntil: new Date(p.validUntil).toISOString() };
    },
  }),
  route({
    method: 'post',
    path: '/v1/voucher-programs/:name/codes',
    summary: 'Issue voucher codes for a by-code program; the codes are shown once, the store keeps their hashes (admins).',
    tag: 'billing',
    access: 'admin',
    body: z.strictObject({ count: z.int().min(1).max(MAX_CODES_PER_REQUEST) }),
    response: { status: 201, schema: z.object({ program: z.string(), codes: z.array(z.string()) }) },
    async handle({ ctx, params, body }) {
      const r = await issueVoucherCodes(ctx, params.name!, body.count);
      return { program: r.program.name, codes: [...r.codes] };
    },
  }),
  route({
    method: 'post',
    path: '/v1/products/:name/price',
    summary:
      "Set a store app's price (free, per run, per hour), its provider/center/operator split (its provider, or admins), and optionally what calls to its inference endpoints cost (fen per request and per 1,000 tokens; endpoints created from then on).",
    tag: 'billing',
    access: 'user',
    body: z.strictObject({ price: AppPriceSchema, shares: Shares, serving: z.strictObject({ fenPerRequest: Fen, fenPer1kTokens: Fen }).optional() }),
    response: { status: 200, schema: z.object({ product: z.string() }) },
    async handle({ ctx, principal, body, params }) {
      await setProductPrice(ctx, requireUser(principal!), params.name!, body.price, body.shares, body.serving);
      return { product: params.name! };
    },
  }),
  route({
    method: 'get',
    path: '/v1/usage',
    summary: "Your org's settled usage (all orgs for admins with all=true), grouped like sreport; JSON or CSV (format=csv).",
    tag: 'billing',
    access: 'user',
    query: z.strictObject({
      by: z.enum(USAGE_GROUPS).default('center'),
      from: When.optional(),
      to: When.optional(),
      format: z.enum(['json', 'csv']).default('json'),
      all: z.enum(['true', 'false']).default('false'),
    }),
    response: { status: 200, schema: UsageReport },
    async handle({ ctx, principal, query, c }) {
      const user = requireUser(principal!);
      if (query.all === 'true' && user.role !== 'admin') throw new SuanwangError('forbidden', 'all=true is for admins', { field: 'all' });
      const now = ctx.now().getTime();
      const to = query.to ?? now + 1;
      const from = query.from ?? monthRange(new Date(now + 8 * 3_600_000).toISOString().slice(0, 7)).from;
      if (!(Number.isFinite(from) && Number.isFinite(to) && from < to)) throw new SuanwangError('invalid_field', 'from must be a time before to', { field: 'from', hint: 'give ISO times, e.g. from=2026-06-01T00:00:00+08:00' });
      const rows = await usageReport(ctx.store.db, query.all === 'true' ? null : user.orgId, from, to, query.by);
      if (query.format === 'csv') return c.body(usageCsv(query.by, rows), 200, { 'content-type': 'text/csv; charset=utf-8' });
      return { by: query.by, from: new Date(from).toISOString(), to: new Date(to).toISOString(), rows };
    },
  }),
  route({
    method: 'get',
    path: '/v1/statements/:org/:month',
    summary: "An org's statement for a month (UTC+8): each job's bill, voucher share, app fee split, what was paid; credits in (members of the org, admins).",
    tag: 'billing',
    access: 'user',
    response: { status: 200, schema: z.object({ org: z.string(), month: z.string() }).loose() },
    async handle({ ctx, principal, params }) {
      const user = requireUser(principal!);
      const orgId = await orgIdByName(ctx.store.db, params.org!);
      if (orgId !== user.orgId && user.role !== 'admin') throw new SuanwangError('forbidden', `the statement of ${params.org} is not yours`, { field: 'org' });
      return statementOf(ctx.store.db, orgId, params.org!, params.month!, ctx.now().getTime());
    },
  }),
  route({
    method: 'post',
    path: '/v1/price-quote',
    summary: 'What a job would cost on each pool it fits: the most its walltime can cost, the voucher share, what you would pay at most; submits nothing.',
    tag: 'billing',
    access: 'user',
    body: JobSubmission,
    query: z.strictObject({ app: z.string().min(1).max(128).optional().describe('a store product launched by this job: its fee is added') }),
    rate: 'quote',
    response: { status: 200, schema: z.object({ billing: z.enum(['off', 'on']), pools: z.array(z.unknown()) }) },
    async handle({ ctx, principal, body, query }) {
      return priceQuote(ctx, requireUser(principal!).orgId, body, query.app);
    },
  }),
  route({
    method: 'get',
    path: '/v1/jobs/:id/charges',
    summary: "A job's charges per attempt: held, then the bill, voucher share, app fee and what was paid.",
    tag: 'billing',
    access: 'user',
    response: { status: 200, schema: z.object({ items: z.array(z.unknown()) }) },
    async handle({ ctx, principal, params }) {
      const job = await getVisibleJob(ctx, requireUser(principal!), params.id!);
      return { items: await chargesOfJob(ctx.store.db, job.id) };
    },
  }),
];
