/** What a job asks of each node it runs on. */
export interface NodeRequest {
  readonly accelerators: number;
  readonly cores: number;
  readonly memoryMiB: number;
}

/** What a job asks for in all: `nodes` identical node requests (a gang: all or nothing). */
export interface ResourceRequest {
  readonly nodes: number;
  readonly perNode: NodeRequest;
}

/** Upper bounds a request must stay within; beyond them it is a typo, not a job. */
export const RESOURCE_LIMITS = {
  nodes: 4096,
  accelerators: 64,
  cores: 1024,
  memoryMiB: 64 * 1024 * 1024,
  walltimeSeconds: 30 * 24 * 3600,
} as const;

/** True when `free` has room for `request` on one node. */
export function fitsNode(free: NodeRequest, request: NodeRequest): boolean {
  return free.accelerators >= request.accelerators && free.cores >= request.cores && free.memoryMiB >= request.memoryMiB;
}

export function subtractNode(free: NodeRequest, used: NodeRequest): NodeRequest {
  return {
    accelerators: free.accelerators - used.accelerators,
    cores: free.cores - used.cores,
    memoryMiB: free.memoryMiB - used.memoryMiB,
  };
}
