import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { dataOptions, loadAgentConfig } from './agent-config.js';

const dir = mkdtempSync(join(tmpdir(), 'agent-config-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const file = (name: string, text: string) => {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
};

test('reads a local center.yaml; relative paths are taken from its folder', () => {
  const c = loadAgentConfig(
    file(
      'ok.yaml',
      'server: http://127.0.0.1:8470\ncenter: west-zhongwei\nenrollmentToken: swe_abcdefghijklmnopqrstuvwxyz\nstateDir: ./state\nconnector:\n  kind: local\n  pools: [{ name: a100, accelerator: nvidia-a100, acceleratorsPerNode: 8, coresPerNode: 64, memoryMiBPerNode: 524288, nodes: 2 }]\n',
    ),
  );
  assert.equal(c.stateDir, join(dir, 'state'));
  assert.equal(c.connector.kind, 'local');
  assert.equal(c.connector.kind === 'local' && c.connector.pools[0]!.acceleratorsPerNode, 8);
  assert.equal(c.connector.kind === 'local' && c.connector.runsDir, undefined, 'runs in stateDir/runs unless said');
  const tmpfs = loadAgentConfig(file('runs.yaml', 'server: http://127.0.0.1:8470\ncenter: west-zhongwei\ntokenFile: t\nstateDir: ./state\nconnector: { kind: local, runsDir: ./runs, pools: [{ name: cpu, coresPerNode: 4, memoryMiBPerNode: 1024, nodes: 1 }] }\n'));
  assert.equal(tmpfs.connector.kind === 'local' && tmpfs.connector.runsDir, join(dir, 'runs'));
});

test('reads a slurm connector with its JWT file', () => {
  const c = loadAgentConfig(file('slurm.yaml', 'server: https://cp.example.org\ncenter: hpc-one\ntokenFile: agent-token\nstateDir: /var/lib/sw\nconnector: { kind: slurm, url: "http://127.0.0.1:6820", tokenFile: jwt, user: root, partitions: [gpu] }\n'));
  assert.equal(c.tokenFile, join(dir, 'agent-token'));
  assert.deepEqual(c.connector.kind === 'slurm' && [c.connector.tokenFile, c.connector.partitions], [join(dir, 'jwt'), ['gpu']]);
});

test('names the file, the field and the problem', () => {
  const bad = file('bad.yaml', 'server: ftp://x\ncenter: West Zhongwei\nstateDir: s\nconnector: { kind: local, pools: [] }\ncolour: blue\n');
  assert.throws(() => loadAgentConfig(bad), (e: Error) => {
    assert.match(e.message, /bad\.yaml is not a valid agent config/);
    for (const field of ['server', 'center', 'connector.pools', 'colour']) assert.match(e.message, new RegExp(`\\b${field.replace('.', '\\.')}\\b`));
    return true;
  });
  assert.throws(() => loadAgentConfig(join(dir, 'missing.yaml')), /cannot read the agent config/);
  assert.throws(() => loadAgentConfig(file('yaml.yaml', 'server: [unclosed\n')), /not valid YAML/);
});

test("dataset storage: the local connector's in stateDir/data by default; the Slurm connector's on its shared path, per-link limits kept", () => {
  const local = loadAgentConfig(file('local-data.yaml', 'server: http://127.0.0.1:8470\ncenter: west-zhongwei\ntokenFile: t\nstateDir: ./state\nconnector: { kind: local, pools: [{ name: cpu, coresPerNode: 4, memoryMiBPerNode: 1024, nodes: 1 }] }\n'));
  assert.deepEqual(dataOptions(local), { root: join(dir, 'state', 'data') });
  const slurm = loadAgentConfig(
    file(
      'slurm-data.yaml',
      'server: https://cp.example.org\ncenter: hpc-one\ntokenFile: t\nstateDir: /var/lib/sw\nconnector: { kind: slurm, url: "http://127.0.0.1:6820", tokenFile: jwt, user: root }\n' +
        'data: { root: shared/data, host: 0.0.0.0, port: 8471, quotaBytes: 1000000, linkReceiveBytesPerSecond: { east-shanghai: 5000 } }\n',
    ),
  );
  assert.deepEqual(dataOptions(slurm), { root: join(dir, 'shared', 'data'), host: '0.0.0.0', port: 8471, quotaBytes: 1000000, linkReceiveBytesPerSecond: { 'east-shanghai': 5000 } });
  const noData = loadAgentConfig(file('slurm-nodata.yaml', 'server: https://cp.example.org\ncenter: hpc-one\ntokenFile: t\nstateDir: /var/lib/sw\nconnector: { kind: slurm, url: "http://127.0.0.1:6820", tokenFile: jwt, user: root }\n'));
  assert.equal(dataOptions(noData), undefined, 'no shared path: no storage (stateDir may be on the head node only)');
  const bad = file('slurm-bad.yaml', 'server: https://cp.example.org\ncenter: hpc-one\ntokenFile: t\nstateDir: /var/lib/sw\nconnector: { kind: slurm, url: "http://127.0.0.1:6820", tokenFile: jwt, user: root }\ndata: { quotaBytes: 0 }\n');
  assert.throws(() => loadAgentConfig(bad), (e: Error) => /data\.root: the Slurm connector needs/.test(e.message) && /data\.quotaBytes/.test(e.message));
});
