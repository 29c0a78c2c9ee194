import { describe, expect, it } from 'vitest';
import { escapeHtml, html, raw } from '../../src/server/html.js';
import { parseAuthorizationUrl } from '../../src/server/paste.js';
import { maskToken, relativeTime } from '../../src/server/views/connection.js';

describe('html template helper', () => {
  it('escapes every interpolation', () => {
    const evil = '<script>alert("x")</script>\'`&';
    expect(html`<p title="${evil}">${evil}</p>`.value).toBe(
      '<p title="&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&#39;&#96;&amp;">&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&#39;&#96;&amp;</p>',
    );
  });
  it('keeps nested templates and raw() as they are, joins arrays, drops null/false', () => {
    const items = ['<a>', 'b'].map((x) => html`<li>${x}</li>`);
    expect(html`<ul>${items}</ul>${null}${false}${undefined}${raw('<br>')}${0}`.value).toBe(
      '<ul><li>&lt;a&gt;</li><li>b</li></ul><br>0',
    );
    expect(escapeHtml('a&b')).toBe('a&amp;b');
  });
  it('writes every character outside ASCII, in the text or a value, as a character reference', () => {
    const name = 'José 😀 — “x”';
    expect(html`<p>a · b ${name}</p>…`.value).toBe(
      '<p>a &#183; b Jos&#233; &#128512; &#8212; &#8220;x&#8221;</p>&#8230;',
    );
    expect(escapeHtml('é&')).toBe('&#233;&amp;');
  });
  it('leaves C1 controls as they are: a browser would read their references as Windows-1252 characters', () => {
    expect(escapeHtml('a\u0085b\u009f')).toBe('a\u0085b\u009f');
    expect(escapeHtml('\u0085é')).toBe('\u0085&#233;');
    expect(html`<p>${'x\u0096'}</p>`.value).toBe('<p>x\u0096</p>');
  });
});

describe('paste-to-configure', () => {
  it('reads client id, redirect URI and scopes from a Webex OAuth Authorization URL', () => {
    const r = parseAuthorizationUrl(
      'https://webexapis.com/v1/authorize?client_id=C0ffee123&response_type=code&redirect_uri=http%3A%2F%2Flocalhost%3A8080%2Foauth&scope=spark%3Apeople_read%20spark%3Arooms_read&state=set_state_here',
    );
    expect(r).toEqual({
      ok: true,
      integration: {
        clientId: 'C0ffee123',
        redirectUri: 'http://localhost:8080/oauth',
        scopes: ['spark:people_read', 'spark:rooms_read'],
        apiBase: 'https://webexapis.com/v1',
      },
    });
  });
  it('accepts the FedRAMP host and rejects other URLs with a clear message', () => {
    expect(
      parseAuthorizationUrl(
        'https://api-usgov.webex.com/v1/authorize?client_id=C1&redirect_uri=https://x/cb&scope=spark:all',
      ).ok,
    ).toBe(true);
    const bad = parseAuthorizationUrl('https://evil.example/v1/authorize?client_id=C1&redirect_uri=http://x/');
    expect(bad).toEqual({ ok: false, message: expect.stringContaining('not a Webex authorization URL') });
    expect(parseAuthorizationUrl('not a url')).toMatchObject({
      ok: false,
      message: expect.stringContaining('not a URL'),
    });
    expect(parseAuthorizationUrl('https://webexapis.com/v1/people/me')).toMatchObject({
      ok: false,
      message: expect.stringContaining('/v1/authorize'),
    });
    expect(parseAuthorizationUrl('https://webexapis.com/v1/authorize?redirect_uri=http://x/')).toMatchObject({
      ok: false,
      message: expect.stringContaining('client_id'),
    });
    expect(parseAuthorizationUrl('http://webexapis.com/v1/authorize?client_id=C1&redirect_uri=http://x/').ok).toBe(
      false,
    );
  });
});

describe('formatting', () => {
  it('says when a token expires', () => {
    expect(relativeTime(14 * 86_400_000 + 5, 0)).toBe('in 14 days');
    expect(relativeTime(0, 3_600_000)).toBe('1 hour ago');
    expect(relativeTime(1000, 1000)).toBe('now');
  });
  it('masks tokens', () => {
    expect(maskToken('ABCDEFGHIJKLMNOPQRSTUVWXYZ')).toBe('ABCDEF••••••••WXYZ');
    expect(maskToken('short')).toBe('••••');
  });
});
