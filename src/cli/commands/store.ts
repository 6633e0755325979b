import { clientFor, parse, printJson, UsageError, type Command } from '../command.js';
import { table } from '../format.js';

export const store: Command = {
  summary: 'search the store (应用商城) and show a product',
  usage: `suanwang store search [WORDS…] [--category C] [--family F] [--provider P] [--sort relevance|popularity|newest] [--limit N]
suanwang store show PRODUCT        its description, versions, parameters and adaptation matrix

Categories: compute, software, saas, model, dataset, service, code. Families: cuda, cann (Ascend),
dtk (Hygon DCU), bang (Cambricon), musa, xpu, supa, corex, maca, cpu.`,
  async run(argv) {
    const { values, positionals } = parse(argv, {
      category: { type: 'string' },
      family: { type: 'string' },
      provider: { type: 'string' },
      sort: { type: 'string' },
      limit: { type: 'string' },
    });
    const [sub, ...rest] = positionals;
    const client = clientFor(values);
    if (sub === 'search') {
      const r = await client.searchProducts({
        q: rest.join(' '),
        ...(values.category ? { category: values.category } : {}),
        ...(values.family ? { family: values.family } : {}),
        ...(values.provider ? { provider: values.provider } : {}),
        ...(values.sort ? { sort: values.sort } : {}),
        ...(values.limit ? { limit: Number(values.limit) } : {}),
      });
      if (values.json) {
        printJson(r);
        return 0;
      }
      process.stdout.write(
        table(
          ['name', 'category', 'provider', 'runs on', 'launches', 'summary'],
          r.items.map((p) => [p.name, p.category, p.provider, p.families.join(',') || '-', String(p.launches), p.summary.length > 60 ? `${p.summary.slice(0, 57)}…` : p.summary]),
        ) + '\n',
      );
      const facet = (f: Record<string, number>) => Object.entries(f).map(([k, n]) => `${k} ${n}`).join(', ');
      process.stderr.write(`${r.exact ? '' : 'about '}${r.total} found · category: ${facet(r.facets.category)} · family: ${facet(r.facets.family)}\n`);
      return 0;
    }
    if (sub === 'show') {
      const name = rest[0];
      if (!name) throw new UsageError('which product? give its name');
      const d = await client.product(name);
      if (values.json) {
        printJson(d);
        return 0;
      }
      const p = d.product;
      const out = [`${p.title}  (${p.name}, ${p.category}, by ${p.provider}, ${p.licence})`, `  ${p.summary}`, ''];
      for (const v of d.versions) out.push(`  version ${v.version}: ${v.status}${v.reviewNote ? ` — ${v.reviewNote}` : ''}`);
      const latest = d.versions.find((v) => v.status === 'listed') ?? d.versions[0];
      const app = (latest?.manifest as { app?: { parameters?: { properties?: Record<string, { type: string; default?: unknown; description?: string }> }; adaptation?: Record<string, { efficiency: number; level: string }> } })?.app;
      if (app?.parameters?.properties) {
        out.push('', 'PARAMETERS (--param name=value)');
        out.push(table(['name', 'type', 'default', 'description'], Object.entries(app.parameters.properties).map(([k, s]) => [k, s.type, s.default === undefined ? '-' : String(s.default), s.description ?? ''])));
      }
      if (app?.adaptation && Object.keys(app.adaptation).length) {
        out.push('', 'ADAPTATION (chip → efficiency vs the reference, level)');
        out.push(table(['chip', 'efficiency', 'level'], Object.entries(app.adaptation).map(([k, a]) => [k, a.efficiency.toFixed(2), a.level])));
      }
      if (p.description) out.push('', p.description.trim());
      process.stdout.write(out.join('\n') + '\n');
      return 0;
    }
    throw new UsageError(sub ? `unknown subcommand "${sub}"` : 'search or show?');
  },
};
