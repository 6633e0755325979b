import { SuanwangError } from '../core/errors.js';
import { applyAction, familiesOf, indexText, parseManifest, searchQuery, planLaunch, type AppManifest, type StatusAction } from '../catalog/index.js';
import { findOrgByName } from '../store/accounts.js';
import {
  countLaunch,
  findProductByName,
  findVersion,
  insertProduct,
  insertVersion,
  listVersions,
  refreshListed,
  replaceDraftVersion,
  searchProducts,
  setVersionStatus,
  updateProduct,
  type SearchQuery,
} from '../store/products.js';
import type { JobRow } from '../store/schema.js';
import { inTransaction, type Queryable } from '../store/transaction.js';
import type { Principal } from './accounts.js';
import type { EngineContext } from './context.js';
import { submitJob, type JobSpec } from './jobs.js';

type User = Extract<Principal, { kind: 'user' }>;

/**
 * The store (应用商城) as the control plane runs it: providers publish manifests, admins review,
 * users search and launch. A launch is an ordinary job that remembers its app, version and
 * parameters, and carries one rendered command per accelerator family (the lease picks the one for
 * the chip the scheduler chose).
 */

/** Publishes a manifest (YAML) as a new version in review, or replaces a draft of that version. */
export async function publishManifest(ctx: EngineContext, user: User, yamlText: string, options: { draft?: boolean } = {}) {
  if (user.role !== 'provider' && user.role !== 'admin') {
    throw new SuanwangError('forbidden', `user ${user.name} is a ${user.role}; publishing needs a provider (or admin) account`);
  }
  const parsed = parseManifest(yamlText);
  if (!parsed.ok) {
    const first = parsed.errors[0]!;
    const lines = parsed.errors.slice(0, 10).map((e) => `line ${e.line}, column ${e.column}: ${e.path ? `${e.path}: ` : ''}${e.message}`);
    throw new SuanwangError('invalid_manifest', `the manifest has ${parsed.errors.length} problem(s): ${lines.join('; ')}`, {
      ...(first.path ? { field: first.path } : {}),
      hint: first.hint ?? 'the manifest schema is published at docs/schemas/app-manifest.schema.json',
    });
  }
  const m = parsed.manifest;
  const now = ctx.now();
  const status = options.draft ? ('draft' as const) : ('in-review' as const);
  return inTransaction(ctx.store.db, async (trx) => {
    let product = await findProductByName(trx, m.name);
    if (product && product.provider_org_id !== user.orgId && user.role !== 'admin') {
      throw new SuanwangError('forbidden', `product ${m.name} belongs to another provider`, { field: 'name', hint: 'pick another name' });
    }
    if (!product) {
      // A new product is unlisted: its first manifest describes it until a version is listed.
      await insertProduct(trx, { id: ctx.newId('product'), providerOrgId: user.orgId, name: m.name, at: now, ...productFields(m) });
      product = (await findProductByName(trx, m.name))!;
    }
    const existing = await findVersion(trx, product.id, m.version);
    if (existing && existing.status !== 'draft') {
      throw new SuanwangError('version_immutable', `${m.name}@${m.version} is ${existing.status}; a version that was submitted or listed never changes`, {
        field: 'version',
        hint: 'publish it as a new version (e.g. bump the patch number)',
      });
    }
    if (existing) await replaceDraftVersion(trx, existing.id, m, yamlText, status);
    else await insertVersion(trx, { id: ctx.newId('version'), productId: product.id, version: m.version, status, manifest: m, source: yamlText, at: now });
    await syncProductFields(trx, product.id, now);
    return { product: m.name, version: m.version, status };
  });
}

/**
 * Sets a product's store entry (title, summary, category, families, tags…) from its newest listed
 * version, so that nothing a provider publishes is shown before review; a product with no listed
 * version shows its newest version (only its provider and admins can see it then).
 */
async function syncProductFields(q: Queryable, productId: string, now: Date): Promise<void> {
  const versions = await listVersions(q, productId); // newest first
  const source = versions.find((v) => v.status === 'listed') ?? versions[0];
  if (source) await updateProduct(q, productId, productFields(source.manifest as AppManifest), now);
}

function productFields(m: AppManifest) {
  const searchText = [m.name, m.title, m.summary, m.tags.join(' ')].join(' ').toLowerCase();
  return {
    searchText,
    searchTokens: indexText(searchText),
    title: m.title,
    summary: m.summary,
    description: m.description,
    category: m.category,
    tags: m.tags,
    licence: m.licence,
    visibility: m.visibility,
    families: m.app ? familiesOf(m) : [],
  };
}

/**
 * Moves a version through review: `submit` (its provider), `approve` / `reject` / `relist` (admins),
 * `delist` (admins or its provider). Listing makes the product searchable and launchable.
 */
export async function changeVersionStatus(ctx: EngineContext, user: User, name: string, version: string, action: StatusAction, note: string | null) {
  const now = ctx.now();
  return inTransaction(ctx.store.db, async (trx) => {
    const product = await findProductByName(trx, name);
    if (!product) throw new SuanwangError('product_not_found', `no product named ${name}`, { field: 'name', hint: '`suanwang store search` finds products' });
    const v = await findVersion(trx, product.id, version);
    if (!v) throw new SuanwangError('product_not_found', `${name} has no version ${version}`, { field: 'version' });
    const isProvider = product.provider_org_id === user.orgId && (user.role === 'provider' || user.role === 'admin');
    const allowed = user.role === 'admin' || (isProvider && (action === 'submit' || action === 'delist'));
    if (!allowed) throw new SuanwangError('forbidden', `${action} of ${name}@${version} needs ${action === 'submit' ? 'its provider' : 'an admin'}`);
    const next = applyAction(v.status, action);
    if (!next.ok) throw new SuanwangError('invalid_status_change', next.message, { hint: next.hint });
    if (!(await setVersionStatus(trx, v.id, [v.status], next.status, now, note))) {
      throw new SuanwangError('conflict', `${name}@${version} changed meanwhile; try again`);
    }
    await refreshListed(trx, product.id);
    await syncProductFields(trx, product.id, now);
    return { product: name, version, status: next.status };
  });
}

/** Listed products the caller may see, matching the query, with facet counts. */
export async function searchCatalog(
  ctx: EngineContext,
  user: User,
  query: Omit<SearchQuery, 'orgId' | 'providers' | 'tsquery'> & { text: string; providers?: readonly string[] },
) {
  const providerIds: string[] = [];
  for (const name of query.providers ?? []) {
    const org = await findOrgByName(ctx.store.db, name);
    providerIds.push(org?.id ?? `(none:${name})`);
  }
  const { text, ...rest } = query;
  const result = await searchProducts(ctx.store.db, { ...rest, tsquery: searchQuery(text), orgId: user.orgId, ...(providerIds.length ? { providers: providerIds } : {}) });
  const orgs = new Map((await ctx.store.db.selectFrom('orgs').select(['id', 'name']).execute()).map((o) => [o.id, o.name]));
  return {
    ...result,
    providerName: (id: string) => orgs.get(id) ?? id,
  };
}

/** A product with its versions: listed ones for everybody, every one for its provider and admins. */
export async function productDetail(ctx: EngineContext, user: User, name: string) {
  const product = await findProductByName(ctx.store.db, name);
  const own = product && (product.provider_org_id === user.orgId || user.role === 'admin');
  if (!product || (!own && (!product.listed || (product.visibility === 'org' && product.provider_org_id !== user.orgId)))) {
    throw new SuanwangError('product_not_found', `no product named ${name}`, { field: 'name', hint: '`suanwang store search` finds products' });
  }
  const versions = (await listVersions(ctx.store.db, product.id)).filter((v) => own || v.status === 'listed');
  const provider = await ctx.store.db.selectFrom('orgs').select('name').where('id', '=', product.provider_org_id).executeTakeFirstOrThrow();
  return { product, provider: provider.name, versions };
}

export interface LaunchInput {
  readonly version?: string | undefined;
  readonly params: Readonly<Record<string, string | number | boolean>>;
  readonly resources?: Partial<Record<'nodes' | 'acceleratorsPerNode' | 'coresPerNode' | 'memoryMiBPerNode' | 'walltimeSeconds', number>>;
  readonly accelerators?: readonly string[];
  /** The rest of an ordinary job's choices: objective, limits, name, priority… */
  readonly job: Pick<JobSpec, 'objective' | 'priority' | 'maxAttempts' | 'forbidAccelerators' | 'regions' | 'inputs'> &
    Partial<Pick<JobSpec, 'name' | 'deadline' | 'budgetFen' | 'runtimeSeconds'>>;
}

/**
 * Launches an app: the listed version asked for (or the newest listed one), parameters checked
 * against its schema before anything is queued, and one job submitted that may only run on chips in
 * the app's adaptation matrix, at their efficiencies.
 */
export async function launchApp(ctx: EngineContext, user: User, name: string, input: LaunchInput, idempotencyKey?: string): Promise<{ job: JobRow; created: boolean }> {
  const { spec, productId } = await appJobSpec(ctx, user, name, input);
  const result = await submitJob(ctx, user, spec, idempotencyKey);
  if (result.created) await countLaunch(ctx.store.db, productId);
  return result;
}

/**
 * The job a launch of an app would submit (parameters checked, every family's command rendered),
 * with the version chosen; submits nothing. `launchApp` and the serving controller share it.
 */
export async function appJobSpec(ctx: EngineContext, user: User, name: string, input: LaunchInput): Promise<{ spec: JobSpec; productId: string; version: string; manifest: AppManifest }> {
  const { product, versions } = await productDetail(ctx, user, name);
  const listed = versions.filter((v) => v.status === 'listed');
  const chosen = input.version ? listed.find((v) => v.version === input.version) : listed[0];
  if (!chosen) {
    throw new SuanwangError('product_not_found', input.version ? `${name}@${input.version} is not listed` : `${name} has no listed version`, {
      field: 'version',
      hint: listed.length ? `listed: ${listed.map((v) => v.version).join(', ')}` : 'it has not been approved yet',
    });
  }
  const manifest = chosen.manifest as AppManifest;
  if (!manifest.app) throw new SuanwangError('not_runnable', `${name} is a ${manifest.category} product; there is nothing to launch`, { field: 'name' });
  const planned = planLaunch(manifest, {
    params: input.params,
    ...(input.resources ? { resources: input.resources } : {}),
    ...(input.accelerators ? { accelerators: input.accelerators } : {}),
  });
  if (!planned.ok) {
    const first = planned.errors[0]!;
    throw new SuanwangError('invalid_parameter', planned.errors.map((e) => e.message).join('; '), { field: first.field, ...(first.hint ? { hint: first.hint } : {}) });
  }
  const plan = planned.plan;
  const fallback = plan.variants.cpu ?? Object.values(plan.variants)[0]!;
  const spec: JobSpec = {
    ...input.job,
    name: input.job.name ?? `${manifest.name}`,
    command: fallback.command,
    env: {},
    nodes: plan.resources.nodes,
    acceleratorsPerNode: plan.resources.acceleratorsPerNode,
    coresPerNode: plan.resources.coresPerNode,
    memoryMiBPerNode: plan.resources.memoryMiBPerNode,
    walltimeSeconds: plan.resources.walltimeSeconds,
    accelerators: plan.accelerators,
    runtimeSeconds: input.job.runtimeSeconds ?? plan.runtimeSeconds ?? undefined,
    referenceAccelerator: plan.referenceAccelerator ?? undefined,
    app: {
      versionId: chosen.id,
      params: plan.parameters,
      variants: plan.variants,
      files: plan.files,
      adaptation: plan.resources.acceleratorsPerNode > 0 ? plan.adaptation : null,
      speedMetric: plan.speedMetric,
    },
  };
  return { spec, productId: product.id, version: chosen.version, manifest };
}
