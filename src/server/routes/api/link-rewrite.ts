/**
 * Rewrites the URLs of a Webex `Link` header (RFC 8288: `<url>; rel="next", …`) that lie under the connection's API
 * base so they point at the proxy: following `rel="next"` then stays on the broker, with the broker key. Links
 * elsewhere are left as they are (they never lead through the proxy).
 */

/**
 * `header` with each `<url>` under `apiBase` (same origin, path below the base's) replaced by `proxyBase` + the rest
 * of its path and its query.
 */
export function rewriteLinks(header: string, apiBase: string, proxyBase: string): string {
  const base = new URL(apiBase);
  const basePath = base.pathname.replace(/\/+$/, '');
  return header.replace(/<([^>]*)>/g, (whole, target: string) => {
    if (!URL.canParse(target)) return whole;
    const url = new URL(target);
    if (url.origin !== base.origin || !url.pathname.startsWith(`${basePath}/`)) return whole;
    return `<${proxyBase}${url.pathname.slice(basePath.length)}${url.search}>`;
  });
}
