/** The security headers each kind of answer gets (src/server/plugins/security.ts). */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { describe, expect, it } from 'vitest';
import { API_CONTENT_SECURITY_POLICY, securityHeaderSetter } from '../../src/server/plugins/security.js';
import { testApp } from './support/app.js';

/** The headers the setter puts on an answer to `url` over `protocol`. */
function headersFor(url: string, protocol: 'http' | 'https' = 'http'): Record<string, string> {
  const set = securityHeaderSetter({ formActionOrigins: ['https://webexapis.com'] });
  const headers: Record<string, string> = {};
  const reply = {
    header(name: string, value: string) {
      headers[name] = value;
      return reply;
    },
  };
  set({ url, protocol } as FastifyRequest, reply as unknown as FastifyReply);
  return headers;
}

const PAGE_ONLY = ['referrer-policy', 'permissions-policy', 'cross-origin-opener-policy'];

describe('security headers', () => {
  it('a page gets the full set, no-store included', () => {
    const h = headersFor('/home');
    expect(h['content-security-policy']).toContain("script-src 'self'");
    expect(h['content-security-policy']).toContain("frame-ancestors 'none'");
    expect(h['referrer-policy']).toBe('no-referrer');
    expect(h['permissions-policy']).toContain('camera=()');
    expect(h['cross-origin-opener-policy']).toBe('same-origin');
    expect(h['x-frame-options']).toBe('DENY');
    expect(h['x-content-type-options']).toBe('nosniff');
    expect(h['cache-control']).toBe('no-store');
    expect(h['strict-transport-security']).toBeUndefined();
  });

  it('a static file gets the full set without no-store', () => {
    const h = headersFor('/static/app.css');
    expect(h['referrer-policy']).toBe('no-referrer');
    expect(h['cache-control']).toBeUndefined();
  });

  it('an /api answer gets what applies to JSON: no-store, nosniff, no framing, a CSP that loads nothing', () => {
    const h = headersFor('/api/v1/connections/c1/token');
    expect(h).toEqual({
      'content-security-policy': API_CONTENT_SECURITY_POLICY,
      'x-frame-options': 'DENY',
      'x-content-type-options': 'nosniff',
      'cache-control': 'no-store',
    });
    expect(API_CONTENT_SECURITY_POLICY).toContain("default-src 'none'");
    expect(API_CONTENT_SECURITY_POLICY).toContain("frame-ancestors 'none'");
  });

  it('HSTS on every https answer, /api and /static included', () => {
    for (const url of ['/home', '/static/app.css', '/api/v1/connections']) {
      expect(headersFor(url, 'https')['strict-transport-security'], url).toBe('max-age=31536000');
    }
  });

  it('through the app: an /api answer carries the API set, a page the full one', async () => {
    const { app } = await testApp();
    try {
      const api = await app.inject({ url: '/api/v1/connections/c1/token' });
      expect(api.statusCode).toBe(401);
      expect(api.headers['content-security-policy']).toBe(API_CONTENT_SECURITY_POLICY);
      expect(api.headers['x-frame-options']).toBe('DENY');
      expect(api.headers['x-content-type-options']).toBe('nosniff');
      expect(api.headers['cache-control']).toBe('no-store');
      for (const name of PAGE_ONLY) expect(api.headers[name], name).toBeUndefined();
      const page = await app.inject({ url: '/' });
      for (const name of PAGE_ONLY) expect(page.headers[name], name).toBeDefined();
    } finally {
      await app.close();
    }
  });
});
