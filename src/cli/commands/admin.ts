import { clientFor, durationFlag, parse, printJson, UsageError, type Command } from '../command.js';
import { ago, table } from '../format.js';

const USAGE = `suanwang admin GROUP ACTION [options]      (admins; --json for machine output)

  orgs list
  orgs create NAME
  users list [--org ORG]
  users create NAME --org ORG [--role user|provider|operator|admin]   prints the user's first token
  users set-role NAME ROLE
  centers list
  centers create NAME --region REGION [--display-name TEXT] [--operator-org ORG]
                 [--price POOL=FEN_PER_ACC_HOUR/FEN_PER_CORE_HOUR ...] [--expires 24h]
                 prints an enrollment token for the center's agent (center.yaml: enrollmentToken)
  centers enroll NAME [--expires 24h]       a new enrollment token (single use, expiring)
  tokens list [--user NAME] [--revoked]     ids, owners, expiry, last use (never the secrets)
  tokens create --user NAME [--label TEXT] [--expires 30d]   prints the token, once
  tokens revoke ID                          stops it authenticating at once

Energy defaults of a new center: a flat ¥0.50/kWh, PUE 1.3, 0.58 kg CO2/kWh, UTC+8 (set exact
figures through POST /v1/centers). Prices are integer fen: --price a100=1200/20 is ¥12 per
accelerator-hour and ¥0.20 per core-hour.`;

const FLAGS = {
  org: { type: 'string' },
  role: { type: 'string' },
  region: { type: 'string' },
  'display-name': { type: 'string' },
  'operator-org': { type: 'string' },
  price: { type: 'string', multiple: true },
  expires: { type: 'string' },
  user: { type: 'string' },
  label: { type: 'string' },
  revoked: { type: 'boolean', default: false },
} as const;

export const admin: Command = {
  summary: 'administer the platform: orgs, users and roles, centers and their enrollment, API tokens',
  usage: USAGE,
  async run(argv) {
    const { values, positionals } = parse(argv, FLAGS);
    const [group, action, ...args] = positionals;
    const want = (n: number, what: string) => {
      if (args.length !== n) throw new UsageError(`admin ${group} ${action} takes ${what}`);
    };
    const client = () => clientFor(values);
    const out = (value: unknown, text: string) => {
      if (values.json) printJson(value);
      else process.stdout.write(text + '\n');
      return 0;
    };
    const now = Date.now();
    switch (`${group ?? ''} ${action ?? ''}`) {
      case 'orgs list': {
        const r = await client().orgs();
        return out(r, table(['org', 'users', 'created'], r.items.map((o) => [o.name, String(o.users), o.createdAt])));
      }
      case 'orgs create': {
        want(1, 'the org name');
        const r = await client().createOrg(args[0]!);
        return out(r, `org ${r.name} created (${r.id})`);
      }
      case 'users list': {
        const r = await client().users(values.org);
        return out(r, table(['user', 'org', 'role', 'created'], r.items.map((u) => [u.name, u.org, u.role, u.createdAt])));
      }
      case 'users create': {
        want(1, 'the user name');
        if (!values.org) throw new UsageError('admin users create needs --org ORG (created when new)');
        const r = await client().createUser({ name: args[0]!, org: values.org, ...(values.role ? { role: values.role } : {}) });
        return out(r, `user ${args[0]} created in ${r.org}; token (shown once): ${r.token}`);
      }
      case 'users set-role': {
        want(2, 'the user name and the role');
        const r = await client().setRole(args[0]!, args[1]!);
        return out(r, `${r.name} is now ${r.role}`);
      }
      case 'centers list': {
        const r = await client().centers();
        return out(
          r,
          table(['center', 'region', 'state', 'pools', 'heartbeat'], r.items.map((c) => [c.name, c.region, c.state, c.pools.map((p) => p.name).join(',') || '-', ago(c.lastHeartbeatAt, now)])),
        );
      }
      case 'centers create': {
        want(1, 'the center name');
        if (!values.region) throw new UsageError('admin centers create needs --region REGION (e.g. ningxia)');
        const r = await client().createCenter({
          name: args[0]!,
          region: values.region,
          ...(values['display-name'] ? { displayName: values['display-name'] } : {}),
          ...(values['operator-org'] ? { operatorOrg: values['operator-org'] } : {}),
          ...(values.price ? { prices: parsePrices(values.price) } : {}),
          ...expiry(values.expires, 'enrollmentExpiresInSeconds'),
        });
        const { agentToken: _unused, ...shown } = r;
        return out(
          shown,
          [
            `center ${args[0]} created (${r.id}); it is offline until its agent joins.`,
            `enrollment token (works once, until ${r.enrollmentExpiresAt}):`,
            `  ${r.enrollmentToken}`,
            `put it in the agent's center.yaml as enrollmentToken, then: suanwang agent --config center.yaml`,
          ].join('\n'),
        );
      }
      case 'centers enroll': {
        want(1, 'the center name');
        const seconds = durationFlag('expires', values.expires);
        const r = await client().enrollmentToken(args[0]!, seconds);
        return out(r, `enrollment token for ${r.center} (works once, until ${r.expiresAt}):\n  ${r.enrollmentToken}`);
      }
      case 'tokens list': {
        const r = await client().tokens({ ...(values.user ? { user: values.user } : {}), revoked: values.revoked });
        return out(
          r,
          table(
            ['id', 'owner', 'label', 'created', 'expires', 'last used', ...(values.revoked ? ['revoked'] : [])],
            r.items.map((t) => [
              t.id,
              t.user ?? `center ${t.center}`,
              t.label,
              t.createdAt,
              t.expiresAt ?? 'never',
              ago(t.lastUsedAt, now),
              ...(values.revoked ? [t.revokedAt ?? '-'] : []),
            ]),
          ),
        );
      }
      case 'tokens create': {
        want(0, 'no arguments (--user NAME)');
        if (!values.user) throw new UsageError('admin tokens create needs --user NAME');
        const r = await client().createToken({ user: values.user, ...(values.label ? { label: values.label } : {}), ...expiry(values.expires, 'expiresInSeconds') });
        return out(r, `token ${r.id} for ${r.user}${r.expiresAt ? `, expires ${r.expiresAt}` : ', never expires'} (shown once):\n  ${r.token}`);
      }
      case 'tokens revoke': {
        want(1, 'the token id (see admin tokens list)');
        const r = await client().revokeToken(args[0]!);
        return out(r, `token ${r.id} revoked at ${r.revokedAt}`);
      }
      default:
        throw new UsageError(group ? `unknown admin command "${[group, action].filter(Boolean).join(' ')}"` : 'admin needs a group and an action');
    }
  },
};

function expiry<K extends string>(text: string | undefined, key: K): Partial<Record<K, number>> {
  const seconds = durationFlag('expires', text);
  return seconds === undefined ? {} : ({ [key]: seconds } as Record<K, number>);
}

/** `POOL=ACC/CORE` (integer fen per accelerator-hour / per core-hour) → the API's price book. */
function parsePrices(items: readonly string[]): Record<string, { fenPerAcceleratorHour: number; fenPerCoreHour: number }> {
  const prices: Record<string, { fenPerAcceleratorHour: number; fenPerCoreHour: number }> = {};
  for (const item of items) {
    const m = /^([a-z0-9][a-z0-9_-]*)=(\d+)\/(\d+)$/.exec(item);
    if (!m) throw new UsageError(`--price takes POOL=FEN_PER_ACC_HOUR/FEN_PER_CORE_HOUR in whole fen, e.g. a100=1200/20; got "${item}"`);
    prices[m[1]!] = { fenPerAcceleratorHour: Number(m[2]), fenPerCoreHour: Number(m[3]) };
  }
  return prices;
}
