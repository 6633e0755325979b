import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { mapPools, parseGres, poolCapacity } from './map-pools.js';
import type { SlurmNode, SlurmPartition } from './slurm-api.js';

/** A node as the adapter normalises it; idle, in partition `main`, unless told otherwise. */
function node(name: string, spec: Partial<SlurmNode> = {}): SlurmNode {
  return {
    name,
    cpus: 32,
    realMemoryMiB: 131_072,
    gres: '',
    gresUsed: '',
    features: [],
    partitions: ['main'],
    state: 'idle',
    flags: [],
    allocCpus: 0,
    allocMemoryMiB: 0,
    ...spec,
  };
}

const partition = (name: string, state = 'UP'): SlurmPartition => ({ name, state, isDefault: name === 'main' });

describe('parseGres', () => {
  it('reads the forms slurmctld prints', () => {
    assert.deepEqual(parseGres('npu:8'), [{ name: 'npu', type: null, count: 8 }]);
    assert.deepEqual(parseGres('gpu:a100:4(S:0-1),nic:2'), [
      { name: 'gpu', type: 'a100', count: 4 },
      { name: 'nic', type: null, count: 2 },
    ]);
    assert.deepEqual(parseGres('gpu:2(IDX:0-1)'), [{ name: 'gpu', type: null, count: 2 }]);
    assert.deepEqual(parseGres('gpu:a100:2(S:0,1),gpu:v100:1'), [
      { name: 'gpu', type: 'a100', count: 2 },
      { name: 'gpu', type: 'v100', count: 1 },
    ]);
    assert.deepEqual(parseGres(''), []);
    assert.deepEqual(parseGres('(null)'), []);
    assert.deepEqual(parseGres('mps:100K'), [], 'a suffixed count is not an accelerator count');
  });
});

describe('mapPools', () => {
  it('makes one pool per partition and accelerator model, named after both', () => {
    const { pools, skipped } = mapPools(
      [
        node('asc-n1', { gres: 'npu:8', features: ['ascend-910b'] }),
        node('asc-n2', { gres: 'npu:8', features: ['ascend-910b', 'ib'] }),
        node('asc-c1', { cpus: 16, realMemoryMiB: 32_768, gresUsed: 'npu:0' }),
      ],
      [partition('main')],
    );
    assert.deepEqual(skipped, []);
    assert.deepEqual(
      pools.map((p) => p.pool),
      [
        { name: 'main-ascend-910b', accelerator: 'ascend-910b', acceleratorsPerNode: 8, coresPerNode: 32, memoryMiBPerNode: 131_072, nodes: 2 },
        { name: 'main-cpu', accelerator: null, acceleratorsPerNode: 0, coresPerNode: 16, memoryMiBPerNode: 32_768, nodes: 1 },
      ],
    );
    assert.deepEqual(pools[0]!.target, { partition: 'main', gres: 'npu', feature: 'ascend-910b' });
    assert.deepEqual(pools[1]!.target, { partition: 'main', gres: null, feature: null });
  });

  it('takes the model from a typed GRES when no feature names it', () => {
    const { pools } = mapPools([node('g1', { gres: 'gpu:a100:4(S:0-1)' })], [partition('main')]);
    assert.equal(pools[0]!.pool.name, 'main-nvidia-a100');
    assert.deepEqual(pools[0]!.target, { partition: 'main', gres: 'gpu:a100', feature: null });
  });

  it('uses the smallest node figures and counts only usable nodes', () => {
    const { pools } = mapPools(
      [
        node('g1', { gres: 'gpu:8', features: ['nvidia-a100'], cpus: 64 }),
        node('g2', { gres: 'gpu:4', features: ['nvidia-a100'], cpus: 48 }),
        node('g3', { gres: 'gpu:8', features: ['nvidia-a100'], state: 'down' }),
        node('g4', { gres: 'gpu:8', features: ['nvidia-a100'], state: 'idle', flags: ['DRAIN'] }),
      ],
      [partition('main')],
    );
    assert.deepEqual(pools[0]!.pool, { name: 'main-nvidia-a100', accelerator: 'nvidia-a100', acceleratorsPerNode: 4, coresPerNode: 32, memoryMiBPerNode: 131_072, nodes: 2 });
  });

  it('offers only the partitions asked for, and says which do not exist', () => {
    const nodes = [node('a', { partitions: ['main', 'debug'] }), node('b', { partitions: ['debug'] })];
    const { pools, skipped } = mapPools(nodes, [partition('main'), partition('debug')], { partitions: ['debug', 'nope'] });
    assert.deepEqual(pools.map((p) => [p.pool.name, p.pool.nodes]), [['debug-cpu', 2]]);
    assert.match(skipped.join('\n'), /partition nope: not in this cluster/);
  });

  it('a partition that is down offers no nodes', () => {
    const { pools } = mapPools([node('a')], [partition('main', 'DOWN')]);
    assert.equal(pools[0]!.pool.nodes, 0);
  });

  it('leaves out nodes whose accelerators it cannot name', () => {
    const { pools, skipped } = mapPools([node('x1', { gres: 'gpu:8' }), node('c1')], [partition('main')]);
    assert.deepEqual(pools.map((p) => p.pool.name), ['main-cpu']);
    assert.match(skipped[0]!, /^x1: has gpu:8 but no node feature or GRES type names a known accelerator model/);
  });
});

describe('poolCapacity', () => {
  it('adds up what is free on the usable nodes', () => {
    const nodes = [
      node('asc-n1', { gres: 'npu:8', gresUsed: 'npu:3(IDX:N/A)', features: ['ascend-910b'], allocCpus: 4, allocMemoryMiB: 1024 }),
      node('asc-n2', { gres: 'npu:8', gresUsed: 'npu:0', features: ['ascend-910b'] }),
    ];
    const { pools } = mapPools(nodes, [partition('main')]);
    assert.deepEqual(poolCapacity(pools, nodes), [
      { pool: 'main-ascend-910b', usableNodes: 2, idleNodes: 1, freeCores: 60, freeAccelerators: 13, freeMemoryMiB: 261_120 },
    ]);
  });
});
