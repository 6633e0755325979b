import { resolve } from 'node:path';
import { clientFor, parse, printJson, UsageError, wholeFlag, type Command } from '../command.js';
import { pullDataset, pushDataset, type Progress } from '../data/transfer-commands.js';
import { table } from '../format.js';

/** A one-line progress bar on a terminal (redrawn at most 10 times a second); nothing otherwise. */
function progressBar(): { progress: Progress; done(): void } {
  const tty = process.stderr.isTTY;
  let last = 0;
  let drew = false;
  return {
    progress(phase, done, total) {
      if (!tty || Date.now() - last < 100) return;
      last = Date.now();
      drew = true;
      const mb = (n: number) => (n / 1e6).toFixed(1);
      const bar = total > 0 ? `[${'#'.repeat(Math.round((done / total) * 30)).padEnd(30, '.')}] ${mb(done)}/${mb(total)} MB` : total === 0 ? '' : `${mb(done)} MB`;
      process.stderr.write(`\r${phase.padEnd(10)} ${bar}\u001b[K`);
    },
    done() {
      if (drew) process.stderr.write('\r\u001b[K');
    },
  };
}

export const datasets: Command = {
  summary: 'your datasets: push and pull files, versions and where their replicas are',
  usage: `suanwang datasets [ls] [--json]                    your org's datasets and where their replicas are
suanwang datasets push DIR|FILE NAME [--center C]   upload as a new version, to C or else the nearest center (the shortest
                                                    round trip to its data port); resumable: run it again after an interruption
suanwang datasets pull NAME [DIR] [--version N]     download a version's files (default: the newest, into ./NAME)
suanwang datasets show NAME                         versions, sizes and the centers holding each
suanwang datasets add NAME --bytes N --center C …   register a dataset held outside Suanwang (sizes only, for estimates)
suanwang datasets replicate NAME --copies N (--region R | --hub east|west | --center C …) [--days D]
                                                    a replication rule: N copies there (for D days; default: until deleted)
suanwang datasets rules NAME                        the dataset's rules: scope, where the copies are, state, expiry
suanwang datasets unreplicate RULE_ID               delete a rule (it pins nothing any more)`,
  async run(argv) {
    const { values, positionals } = parse(argv, {
      bytes: { type: 'string' }, center: { type: 'string', multiple: true }, version: { type: 'string' },
      copies: { type: 'string' }, region: { type: 'string' }, hub: { type: 'string' }, days: { type: 'string' },
    });
    const client = clientFor(values);
    const sub = positionals[0] ?? 'ls';
    if (sub === 'add') {
      const name = positionals[1];
      if (!name || !values.bytes || !values.center) throw new UsageError('give NAME, --bytes and at least one --center');
      const d = await client.registerDataset({ name, bytes: wholeFlag('bytes', values.bytes)!, centers: values.center });
      if (values.json) printJson(d);
      else process.stdout.write(`${d.id} ${d.name} (${d.bytes} bytes) at ${d.centers.join(', ')}\n`);
      return 0;
    }
    if (sub === 'push') {
      const [, path, name] = positionals;
      if (!path || !name) throw new UsageError('give the file or folder and the dataset name: suanwang datasets push DIR NAME');
      if ((values.center?.length ?? 0) > 1) throw new UsageError('--center takes one center for a push');
      const bar = progressBar();
      const r = await pushDataset(client, resolve(path), name, { center: values.center?.[0], progress: bar.progress }).finally(() => bar.done());
      if (values.json) printJson(r);
      else process.stdout.write(`${name} v${r.version} (${r.versionId}): ${r.bytes} bytes at ${r.center}, ${r.sent} bytes sent${r.sent < r.bytes ? ' (the rest was there already)' : ''}, sealed\n`);
      return 0;
    }
    if (sub === 'pull') {
      const [, name, dir] = positionals;
      if (!name) throw new UsageError('give the dataset name: suanwang datasets pull NAME [DIR]');
      const bar = progressBar();
      const r = await pullDataset(client, name, resolve(dir ?? name), { ...(values.version ? { version: wholeFlag('version', values.version)! } : {}), progress: bar.progress }).finally(() => bar.done());
      if (values.json) printJson(r);
      else process.stdout.write(`${name} v${r.version}: ${r.bytes} bytes from ${r.center} into ${resolve(dir ?? name)}, every chunk checked\n`);
      return 0;
    }
    if (sub === 'show') {
      const name = positionals[1];
      if (!name) throw new UsageError('give the dataset name');
      const d = await client.dataset(name);
      if (values.json) printJson(d);
      else process.stdout.write(table(['version', 'id', 'state', 'bytes', 'files', 'held at'], d.versions.map((v) => [String(v.version), v.id, v.state, String(v.bytes), String(v.files), v.centers.join(', ')])) + '\n');
      return 0;
    }
    if (sub === 'replicate') {
      const name = positionals[1];
      if (!name || !values.copies) throw new UsageError('give the dataset and the copies: suanwang datasets replicate NAME --copies N --region R [--days D]');
      const days = values.days === undefined ? undefined : Number(values.days);
      if (days !== undefined && !(days > 0)) throw new UsageError(`--days is "${values.days}": give a number of days above 0`);
      const r = await client.replicate(name, {
        copies: wholeFlag('copies', values.copies)!,
        ...(values.region !== undefined ? { region: values.region } : {}),
        ...(values.hub !== undefined ? { hub: values.hub } : {}),
        ...(values.center !== undefined ? { centers: values.center } : {}),
        ...(days !== undefined ? { days } : {}),
      });
      if (values.json) printJson(r);
      else process.stdout.write(`${r.id}: ${r.copies} cop${r.copies === 1 ? 'y' : 'ies'} of ${r.dataset} in ${r.scope} (${r.centers.join(', ')})${r.expiresAt ? ` until ${r.expiresAt}` : ''}; held now at ${r.held.join(', ') || 'none of them'}\n`);
      return 0;
    }
    if (sub === 'rules') {
      const name = positionals[1];
      if (!name) throw new UsageError('give the dataset name: suanwang datasets rules NAME');
      const list = await client.rules(name);
      if (values.json) printJson(list);
      else process.stdout.write(table(['rule', 'copies', 'scope', 'held at', 'state', 'expires'], list.items.map((r) => [r.id, String(r.copies), r.scope, r.held.join(', ') || '-', r.state, r.expiresAt ?? 'never'])) + '\n');
      return 0;
    }
    if (sub === 'unreplicate') {
      const id = positionals[1];
      if (!id) throw new UsageError('give the rule id: suanwang datasets unreplicate RULE_ID (see suanwang datasets rules NAME)');
      const r = await client.deleteRule(id);
      if (values.json) printJson(r);
      else process.stdout.write(`${r.id} deleted: its replicas are no longer pinned\n`);
      return 0;
    }
    if (sub !== 'ls') throw new UsageError(`unknown subcommand "${sub}"`);
    const list = await client.datasets();
    if (values.json) printJson(list);
    else process.stdout.write(table(['id', 'name', 'bytes', 'replicas'], list.items.map((d) => [d.id, d.name, String(d.bytes), d.centers.join(', ')])) + '\n');
    return 0;
  },
};
