import { describe, expect, it } from 'vitest';
import { OIDC_SCOPES, SCOPES, scopeInfo, scopesForEndpoint, sparkAllCovers } from '../../src/scopes/catalog.js';

describe('scope catalog', () => {
  it('has every documented Webex integration scope once, each with a meaning', () => {
    const names = SCOPES.map((s) => s.name);
    expect(new Set(names).size).toBe(names.length);
    for (const n of [
      'spark:all',
      'spark:kms',
      'spark:people_read',
      'spark:rooms_read',
      'spark:rooms_write',
      'spark:memberships_read',
      'spark:memberships_write',
      'spark:messages_read',
      'spark:messages_write',
      'spark:devices_read',
      'spark:devices_write',
      'spark:xapi_statuses',
      'spark:xapi_commands',
      'spark:applications_token',
      'spark-admin:people_read',
      'spark-admin:telephony_config_write',
      'spark-compliance:events_read',
      'spark-compliance:messages_write',
      'identity:tokens_read',
      'identity:tokens_write',
      'identity:placeonetimepassword_create',
      'meeting:schedules_read',
      'meeting:admin_participants_read',
      'guest-issuer:read',
      'guest-issuer:write',
      ...OIDC_SCOPES,
    ]) {
      expect(scopeInfo(n)?.meaning, n).toMatch(/\w/);
    }
    expect(scopeInfo('spark:nope')).toBeUndefined();
    for (const s of OIDC_SCOPES) expect(scopeInfo(s)?.kind).toBe('oidc');
  });

  it('tells which scopes allow an endpoint; spark:all covers user spark: scopes only', () => {
    expect(scopesForEndpoint('GET', '/people/me')).toEqual(['spark:people_read', 'spark:all']);
    expect(scopesForEndpoint('get', '/v1/rooms?max=2')).toEqual(['spark:rooms_read', 'spark:all']);
    expect(scopesForEndpoint('POST', '/memberships')).toEqual(['spark:memberships_write', 'spark:all']);
    expect(scopesForEndpoint('GET', '/memberships')).toEqual(['spark:memberships_read', 'spark:all']);
    expect(scopesForEndpoint('GET', '/messages')).toEqual(['spark:messages_read', 'spark:all']);
    expect(scopesForEndpoint('POST', '/messages')).toEqual(['spark:messages_write', 'spark:all']);
    expect(scopesForEndpoint('GET', '/people/Y2lzY29zcGFyazovL3VzL1BFT1BMRS8x')).toEqual([
      'spark:people_read',
      'spark-admin:people_read',
      'spark:all',
    ]);
    expect(scopesForEndpoint('GET', '/authorizations')).toEqual(['identity:tokens_read']);
    expect(scopesForEndpoint('GET', '/nowhere')).toEqual([]);
    expect(sparkAllCovers('spark:messages_read')).toBe(true);
    expect(sparkAllCovers('spark-admin:people_read')).toBe(false);
    expect(sparkAllCovers('meeting:schedules_read')).toBe(false);
  });
});
