import { z } from 'zod';
import type { RunState } from '../../core/agent-protocol.js';
import { SuanwangError } from '../../core/errors.js';
import { enrollAgent, requireAgent } from '../../engine/accounts.js';
import { appendLogs, heartbeat, pollLeases, registerAgent, reportState } from '../../engine/agents.js';
import { AgentEnroll, AgentEnrolled, AgentHeartbeat, AgentLogReport, AgentRegister, AgentReports, AgentStateReport } from '../client/schemas.js';
import { applyReports } from '../../engine/agent-reports.js';
import { route } from '../route.js';

const session = 'X-Agent-Session';

/**
 * Refuses (422 `invalid_report`) a final state its exit code contradicts: `succeeded` needs exit 0,
 * and `failed` with exit 0 needs a reason (a walltime stop may end a program that exits 0).
 */
export function assertConsistentOutcome(run: { state: RunState; exitCode: number | null; reason: string | null }, field: string): void {
  const contradiction =
    run.state === 'succeeded' && run.exitCode !== 0
      ? `succeeded with exit code ${run.exitCode}`
      : run.state === 'failed' && run.exitCode === 0 && run.reason === null
        ? 'failed with exit code 0 and no reason'
        : null;
  if (contradiction) {
    throw new SuanwangError('invalid_report', `a run cannot have ${contradiction}`, {
      field: `${field}exitCode`,
      hint: 'report succeeded only for exit code 0; a non-zero exit code is failed',
    });
  }
}
const ok = z.object({ ok: z.literal(true) });

/** The agent protocol's endpoints; see src/core/agent-protocol.ts for the conversation. */
export const agentRoutes = [
  route({
    method: 'post',
    path: '/v1/agent/enroll',
    summary: "An agent's first call: exchanges a center's enrollment token (single use, expiring) for its agent token.",
    tag: 'agent',
    access: 'public',
    body: AgentEnroll,
    response: { status: 201, schema: AgentEnrolled },
    async handle({ ctx, body }) {
      const r = await enrollAgent(ctx, body.enrollmentToken);
      return { center: r.centerName, centerId: r.centerId, agentToken: r.agentToken };
    },
  }),
  route({
    method: 'post',
    path: '/v1/agent/register',
    summary: 'An agent joins (or rejoins) with its pools and runs; the answer carries its session and runs to stop.',
    tag: 'agent',
    access: 'agent',
    body: AgentRegister,
    response: { status: 200, schema: null },
    async handle({ ctx, principal, body }) {
      body.runs.forEach((run, i) => assertConsistentOutcome(run, `runs[${i}].`));
      return registerAgent(ctx, requireAgent(principal!).centerId, body);
    },
  }),
  route({
    method: 'post',
    path: '/v1/agent/heartbeat',
    summary: 'An agent is alive; the answer lists runs to stop.',
    tag: 'agent',
    access: 'agent',
    body: AgentHeartbeat,
    headers: { [session]: 'required' },
    response: { status: 200, schema: null },
    async handle({ ctx, c, principal, body }) {
      return heartbeat(ctx, requireAgent(principal!).centerId, c.req.header(session), body);
    },
  }),
  route({
    method: 'get',
    path: '/v1/agent/leases',
    summary: 'Long poll for work: leases (jobs placed on this center) and runs to stop.',
    tag: 'agent',
    access: 'agent',
    query: z.object({
      waitMs: z.coerce.number().int().min(0).max(60_000).default(20_000),
      after: z.coerce.number().int().min(0).default(0).describe('the `cursor` of the previous answer: only leases placed since'),
    }),
    headers: { [session]: 'required' },
    response: { status: 200, schema: null },
    async handle({ ctx, c, principal, query }) {
      return pollLeases(ctx, requireAgent(principal!).centerId, c.req.header(session), query.waitMs, c.req.raw.signal, query.after);
    },
  }),
  route({
    method: 'post',
    path: '/v1/agent/jobs/:id/state',
    summary: 'A run changed state (running, or ended with its exit code).',
    tag: 'agent',
    access: 'agent',
    body: AgentStateReport,
    headers: { [session]: 'required' },
    response: { status: 200, schema: null },
    async handle({ ctx, c, principal, params, body }) {
      assertConsistentOutcome(body, '');
      return reportState(ctx, requireAgent(principal!).centerId, c.req.header(session), params.id!, body);
    },
  }),
  route({
    method: 'post',
    path: '/v1/agent/reports',
    summary: "Many runs' output chunks and state changes in one call: logs first, then states in order; one answer per state (`ok` or `kill`).",
    tag: 'agent',
    access: 'agent',
    body: AgentReports,
    headers: { [session]: 'required' },
    response: { status: 200, schema: null },
    async handle({ ctx, c, principal, body }) {
      return applyReports(ctx, requireAgent(principal!).centerId, c.req.header(session), body);
    },
  }),
  route({
    method: 'post',
    path: '/v1/agent/jobs/:id/logs',
    summary: 'Output chunks of a run, by byte offset (re-sending is harmless).',
    tag: 'agent',
    access: 'agent',
    body: AgentLogReport,
    headers: { [session]: 'required' },
    response: { status: 200, schema: ok },
    async handle({ ctx, c, principal, params, body }) {
      await appendLogs(ctx, requireAgent(principal!).centerId, c.req.header(session), params.id!, body);
      return { ok: true };
    },
  }),
];
