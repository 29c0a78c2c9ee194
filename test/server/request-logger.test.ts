/**
 * The per-request logger of the whole app (src/server/lazy-logger.ts, set in app.ts): at `info` every request still logs its start and end with its
 * request id, query strings still stay out; at `warn` nothing is logged for a plain page, and an error still is,
 * with the request id.
 */
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../src/log.js';
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
});
