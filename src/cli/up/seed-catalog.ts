import { readFileSync } from 'node:fs';
import { parseManifest, SEED_FILES, SEED_PROVIDER, type AppManifest } from '../../catalog/index.js';
import { registerDataset } from '../../engine/datasets.js';
import { findCenterByName } from '../../store/centers.js';
import { findDatasetByName } from '../../store/datasets.js';
import { SuanwangError } from '../../core/errors.js';
import { findUserByName } from '../../store/accounts.js';
import { createUser, type Principal } from '../../engine/accounts.js';
import { changeVersionStatus, publishManifest } from '../../engine/catalog.js';
import type { EngineContext } from '../../engine/context.js';

const SEED_DIR = new URL('../../catalog/seed/', import.meta.url);

/**
 * Publishes the seed catalog (src/catalog/seed/*.yaml) as the provider SEED_PROVIDER and lists it,
 * so a new user's first launch does real work; a dataset product's data is registered as held at
 * `datasetCenter`. Versions already there are left as they are. Returns the names newly listed.
 */
export async function seedCatalog(ctx: EngineContext, datasetCenter: string): Promise<string[]> {
  const existing = await findUserByName(ctx.store.db, SEED_PROVIDER);
  const provider: Extract<Principal, { kind: 'user' }> = existing
    ? { kind: 'user', userId: existing.id, orgId: existing.org_id, name: existing.name, role: existing.role }
    : await (async () => {
        const u = await createUser(ctx, { orgName: SEED_PROVIDER, name: SEED_PROVIDER, role: 'provider' });
        return { kind: 'user' as const, userId: u.userId, orgId: u.orgId, name: SEED_PROVIDER, role: 'provider' as const };
      })();
  const admin: Extract<Principal, { kind: 'user' }> = { ...provider, role: 'admin', name: 'seed review' };
  const listed: string[] = [];
  for (const file of SEED_FILES) {
    const text = readFileSync(new URL(file, SEED_DIR), 'utf8');
    try {
      const r = await publishManifest(ctx, provider, text);
      await changeVersionStatus(ctx, admin, r.product, r.version, 'approve', 'seed catalog');
      listed.push(r.product);
    } catch (error) {
      if (error instanceof SuanwangError && error.code === 'version_immutable') continue;
      throw error;
    }
  }
  await registerSeedData(ctx, provider, datasetCenter);
  return listed;
}

/** The data of the seed's dataset products, registered as held at one center. */
async function registerSeedData(ctx: EngineContext, provider: Extract<Principal, { kind: 'user' }>, centerName: string): Promise<void> {
  if (!(await findCenterByName(ctx.store.db, centerName))) return;
  for (const file of SEED_FILES) {
    const parsed = parseManifest(readFileSync(new URL(file, SEED_DIR), 'utf8'));
    const d = parsed.ok ? (parsed.manifest as AppManifest).dataset : undefined;
    if (!d || (await findDatasetByName(ctx.store.db, provider.orgId, d.name))) continue;
    await registerDataset(ctx, provider, { name: d.name, bytes: d.bytes ?? 0, centers: [centerName] });
  }
}
