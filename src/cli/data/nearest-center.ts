import { connect } from 'node:net';
import { performance } from 'node:perf_hooks';

/**
 * The round trip from this machine to a data port: how long a TCP connection takes to open (one
 * SYN and its answer), the median of `tries`, one after another; null when the port does not
 * answer within `timeoutMs`.
 */
export async function roundTripMs(url: string, tries = 3, timeoutMs = 2_000): Promise<number | null> {
  const u = new URL(url);
  const port = Number(u.port || (u.protocol === 'https:' ? 443 : 80));
  const host = u.hostname.replace(/^\[|\]$/g, '');
  const times: number[] = [];
  for (let k = 0; k < tries; k++) {
    const ms = await new Promise<number | null>((resolve) => {
      const started = performance.now();
      const socket = connect({ host, port });
      const done = (value: number | null) => {
        socket.destroy();
        resolve(value);
      };
      socket.setTimeout(timeoutMs, () => done(null));
      socket.once('connect', () => done(performance.now() - started));
      socket.once('error', () => done(null));
    });
    if (ms === null) return null;
    times.push(ms);
  }
  return times.sort((a, b) => a - b)[Math.floor(times.length / 2)]!;
}

/**
 * Of the centers an upload may go to, the nearest to this machine: the smallest measured round trip
 * to its data port (all measured at once; ties go to the first by name). Null when none answers.
 */
export async function nearestCenter(ports: readonly { center: string; url: string }[]): Promise<{ center: string; roundTripMs: number } | null> {
  const measured = await Promise.all(ports.map(async (p) => ({ center: p.center, roundTripMs: await roundTripMs(p.url) })));
  let best: { center: string; roundTripMs: number } | null = null;
  for (const m of measured) {
    if (m.roundTripMs === null) continue;
    if (!best || m.roundTripMs < best.roundTripMs || (m.roundTripMs === best.roundTripMs && m.center < best.center)) best = { center: m.center, roundTripMs: m.roundTripMs };
  }
  return best;
}
