import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import { createLogger, logLevelFromEnv } from './logger.js';

describe('logger', { timeout: 10_000 }, () => {
  it('takes its level from SUANWANG_LOG_LEVEL, then SUANWANG_LOG=debug, else info', () => {
    assert.equal(logLevelFromEnv({}), 'info');
    assert.equal(logLevelFromEnv({ SUANWANG_LOG: 'debug' }), 'debug');
    assert.equal(logLevelFromEnv({ SUANWANG_LOG_LEVEL: 'WARN', SUANWANG_LOG: 'debug' }), 'warn');
    assert.throws(() => logLevelFromEnv({ SUANWANG_LOG_LEVEL: 'loud' }), /SUANWANG_LOG_LEVEL is "loud"; use one of trace, debug, info/);
  });

  it('writes one JSON object per line: level name, ISO time, pid, fields, message, errors with stacks', () => {
    const lines: string[] = [];
    const destination = new Writable({
      write(chunk: Buffer, _encoding, done) {
        lines.push(...chunk.toString().split('\n').filter((l) => l !== ''));
        done();
      },
    });
    const log = createLogger({ level: 'info', destination, base: { service: 'test' } });
    log.debug({ hidden: true }, 'below the level');
    log.info({ reqId: 'r-1', status: 200 }, 'request');
    log.child({ component: 'loop' }).error({ err: new Error('boom') }, 'pass failed');
    assert.equal(lines.length, 2);
    const [info, error] = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.equal(info!.level, 'info');
    assert.match(String(info!.time), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    assert.deepEqual([info!.pid, info!.service, info!.reqId, info!.status, info!.msg], [process.pid, 'test', 'r-1', 200, 'request']);
    assert.equal(error!.level, 'error');
    assert.equal(error!.component, 'loop');
    assert.match((error!.err as { stack: string }).stack, /Error: boom\n\s+at /);
  });
});
