import { SuanwangClient } from '../../api/client/client.js';
import { parse, printJson, UsageError, type Command } from '../command.js';
import { saveLogin } from '../config.js';

export const login: Command = {
  summary: 'save the server and token this CLI uses',
  usage: `suanwang login --server URL --token TOKEN

Checks the token against the server, then saves both in $SUANWANG_HOME/cli.json (mode 600).
Without a login the CLI talks to the local network of \`suanwang up\` in the same SUANWANG_HOME.`,
  async run(argv) {
    const { values } = parse(argv, {});
    if (!values.server || !values.token) throw new UsageError('give both --server and --token');
    const me = await new SuanwangClient(values.server, values.token).whoami();
    const path = saveLogin(values.server, values.token);
    if (values.json) printJson({ ...me, saved: path });
    else process.stdout.write(`logged in to ${values.server} as ${me.user} (${me.org}, ${me.role}); saved in ${path}\n`);
    return 0;
  },
};
