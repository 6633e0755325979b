import { clientFor, parse, printJson, type Command } from '../command.js';
import { ago, table, yuan } from '../format.js';

export const centers: Command = {
  summary: 'list the compute centers: state, pools, free capacity, prices',
  usage: 'suanwang centers [--json]',
  async run(argv) {
    const { values } = parse(argv, {});
    const list = await clientFor(values).centers();
    if (values.json) {
      printJson(list);
      return 0;
    }
    const now = Date.now();
    const rows = list.items.flatMap((c) =>
      c.pools.map((p, i) => [
        i === 0 ? c.name : '',
        i === 0 ? c.region : '',
        i === 0 ? c.state : '',
        p.name,
        p.accelerator ? `${p.nodes}×${p.acceleratorsPerNode} ${p.accelerator}` : `${p.nodes}×${p.coresPerNode} cores`,
        p.accelerator ? `${p.freeAccelerators}/${p.nodes * p.acceleratorsPerNode}` : `${p.freeCores}/${p.nodes * p.coresPerNode}`,
        p.accelerator ? `${yuan(p.fenPerAcceleratorHour)}/acc·h` : `${yuan(p.fenPerCoreHour)}/core·h`,
        i === 0 ? (c.state === 'online' ? ago(c.lastHeartbeatAt, now) : (c.stateReason ?? '')) : '',
      ]),
    );
    process.stdout.write(table(['center', 'region', 'state', 'pool', 'nodes', 'free', 'price', 'heartbeat'], rows) + '\n');
    return 0;
  },
};
