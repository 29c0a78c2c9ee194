/** RFC 8288 `Link` header parsing, enough for Webex pagination (`<url>; rel="next"`). */

/**
 * The `rel="next"` target of a `Link` header value (several links may be comma-joined, as `Headers.get` joins repeated
 * headers), resolved against `base`; `undefined` when there is none.
 */
export function nextLink(header: string | null, base: string): string | undefined {
  if (!header) return undefined;
  const re = /<([^>]*)>((?:\s*;\s*[^;,]+)*)/g;
  for (const m of header.matchAll(re)) {
    const params = m[2] ?? '';
    const rel = /;\s*rel\s*=\s*(?:"([^"]*)"|([^\s;,]+))/i.exec(params);
    const rels = (rel?.[1] ?? rel?.[2] ?? '').toLowerCase().split(/\s+/);
    if (rels.includes('next') && m[1] !== undefined) {
      try {
        return new URL(m[1], base).toString();
      } catch {
        return undefined;
      }
    }
  }
  return undefined;
}
