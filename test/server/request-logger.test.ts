/**
 * The per-request logger of the whole app (src/server/lazy-logger.ts, set in app.ts): at `info` every request still logs its start and end with its
 * request id, query strings still stay out; at `warn` nothing is logged for a plain page, and an error still is,
 * with the request id. Each request's pino child is made only when it writes, and Fastify keeps its default child
 * logger factory (any other makes it check every request's logger).
 */
import { describe, expect, it, vi } from 'vitest';
import { createLogger } from '../../src/log.js';
import { makeChildLoggersLazy } from '../../src/server/lazy-logger.js';
import { testApp } from './support/app.js';

function capture(level: string) {
  const lines: Record<string, unknown>[] = [];
  const logger = createLogger({ level, destination: { write: (line: string) => lines.push(JSON.parse(line)) } });
  return { lines, logger };
}

describe('request logger', () => {
  it('logs each request with its id at info, without the query string', async () => {
    const { lines, logger } = capture('info');
    const { app } = await testApp({ LOG_LEVEL: 'info' }, { logger });
    try {
      const res = await app.inject({ method: 'GET', url: '/home?code=secret-code-value' });
      expect(res.statusCode).toBe(200);
      const mine = lines.filter((l) => l.reqId !== undefined);
      expect(mine.map((l) => l.msg)).toEqual(['incoming request', 'request completed']);
      expect(new Set(mine.map((l) => l.reqId)).size).toBe(1);
      expect(JSON.stringify(lines)).not.toContain('secret-code-value');
    } finally {
      await app.close();
    }
  });

  it('logs nothing for a page at warn, and an error with its request id', async () => {
    const { lines, logger } = capture('warn');
    const { app } = await testApp({ LOG_LEVEL: 'warn' }, { logger });
    try {
      app.get('/boom', async () => {
        throw new Error('boom');
      });
      app.get('/chatty', { logLevel: 'debug' }, async (request) => {
        request.log.debug('chatty route line');
        return 'ok';
      });
      expect((await app.inject({ method: 'GET', url: '/home' })).statusCode).toBe(200);
      expect(lines.filter((l) => l.reqId !== undefined)).toEqual([]);
      expect((await app.inject({ method: 'GET', url: '/boom' })).statusCode).toBe(500);
      const failed = lines.filter((l) => l.msg === 'request failed');
      expect(failed).toHaveLength(1);
      expect(failed[0]?.reqId).toBeDefined();
      // A route's own log level is kept: debug lines of a route at `debug` are written under a `warn` app.
      await app.inject({ method: 'GET', url: '/chatty' });
      expect(lines.filter((l) => l.msg === 'chatty route line')).toHaveLength(1);
      // A level raised at run time applies to requests made afterwards.
      logger.level = 'info';
      await app.inject({ method: 'GET', url: '/home' });
      const homeStarts = lines.filter(
        (l) => l.msg === 'incoming request' && (l.req as { path?: string } | undefined)?.path === '/home',
      );
      expect(homeStarts).toHaveLength(1);
    } finally {
      await app.close();
    }
  });

  it("makes a child's pino logger on its first written line, with its bindings and redaction", () => {
    const { lines, logger } = capture('warn');
    const makeChild = vi.spyOn(logger, 'child');
    makeChildLoggersLazy(logger);
    const child = logger.child({ reqId: 'req-1' }, {});
    child.info('dropped at warn');
    expect(makeChild).not.toHaveBeenCalled();
    child.warn({ authorization: 'Bearer wak_secret' }, 'kept');
    expect(makeChild).toHaveBeenCalledTimes(1);
    expect(lines).toEqual([expect.objectContaining({ reqId: 'req-1', msg: 'kept', authorization: '[redacted]' })]);
    // A child of that child is lazy too, and keeps both bindings.
    child.child({ step: 'two' }).error('nested');
    expect(lines[1]).toMatchObject({ reqId: 'req-1', step: 'two', msg: 'nested' });
  });

  it("keeps Fastify's default child logger factory and makes no pino child for a quiet request", async () => {
    const { lines, logger } = capture('warn');
    // Spied before the app exists, so that the app's logger (a child of this one) makes its children through the spy.
    const makeChild = vi.spyOn(logger, 'child');
    const { app } = await testApp({ LOG_LEVEL: 'warn' }, { logger });
    try {
      // With its default factory Fastify skips validating each request's logger (logger-factory.js createChildLogger).
      expect(app.childLoggerFactory.name).toBe('defaultChildLoggerFactory');
      await app.ready();
      const before = makeChild.mock.calls.length;
      expect((await app.inject({ method: 'GET', url: '/home' })).statusCode).toBe(200);
      expect(makeChild.mock.calls.length).toBe(before);
      expect(lines).toEqual([]);
    } finally {
      await app.close();
    }
  });
});
