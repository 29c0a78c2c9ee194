/**
 * `/metrics` in the Prometheus text format: refreshes by outcome, the refresh-latency histogram, token requests,
 * proxied Webex calls (a latency histogram per method, path template and status), and connections by status (read
 * from the store at scrape time). Admins only, by the one access check every route uses (access/principal.ts):
 * scrapers send `Authorization: Bearer $ADMIN_TOKEN`.
 */
import type { FastifyPluginAsync } from 'fastify';
import { LATENCY_BUCKETS, type VaultMetrics } from '../../../vault/metrics.js';
import type { Vault } from '../../../vault/types.js';

/** Options of {@link metricsRoutes}. */
export interface MetricsOptions {
  vault: Pick<Vault, 'connections'> & { metrics?: VaultMetrics };
}

/** Renders the metrics text. */
export async function renderMetrics(vault: MetricsOptions['vault']): Promise<string> {
  const lines: string[] = [];
  const m = vault.metrics;
  if (m) {
    lines.push('# HELP webex_auth_refreshes_total Access-token refreshes by outcome.');
    lines.push('# TYPE webex_auth_refreshes_total counter');
    for (const [outcome, n] of Object.entries(m.refreshes))
      lines.push(`webex_auth_refreshes_total{outcome="${outcome}"} ${n}`);
    lines.push('# HELP webex_auth_refresh_duration_seconds Time from lease to stored tokens (or failure) per refresh.');
    lines.push('# TYPE webex_auth_refresh_duration_seconds histogram');
    LATENCY_BUCKETS.forEach((le, i) => {
      lines.push(`webex_auth_refresh_duration_seconds_bucket{le="${le}"} ${m.latencyBuckets[i] ?? 0}`);
    });
    lines.push(
      `webex_auth_refresh_duration_seconds_bucket{le="+Inf"} ${m.latencyBuckets[LATENCY_BUCKETS.length] ?? 0}`,
    );
    lines.push(`webex_auth_refresh_duration_seconds_sum ${m.latencySum}`);
    lines.push(`webex_auth_refresh_duration_seconds_count ${m.latencyCount}`);
    lines.push('# HELP webex_auth_token_requests_total Fresh-token requests served by the vault.');
    lines.push('# TYPE webex_auth_token_requests_total counter');
    lines.push(`webex_auth_token_requests_total ${m.tokenRequests}`);
    if (m.proxyCalls.size > 0) {
      const name = 'webex_auth_proxy_request_duration_seconds';
      lines.push(`# HELP ${name} Webex calls through the proxy by method, path template (ids as {id}) and status.`);
      lines.push(`# TYPE ${name} histogram`);
      for (const s of m.proxyCalls.values()) {
        // Label values are safe as they are: a method, a template of letters, _, -, {id} and /, a status number.
        const labels = `method="${s.method}",template="${s.template}",status="${s.status}"`;
        LATENCY_BUCKETS.forEach((le, i) => {
          lines.push(`${name}_bucket{${labels},le="${le}"} ${s.buckets[i] ?? 0}`);
        });
        lines.push(`${name}_bucket{${labels},le="+Inf"} ${s.buckets[LATENCY_BUCKETS.length] ?? 0}`);
        lines.push(`${name}_sum{${labels}} ${s.sum}`);
        lines.push(`${name}_count{${labels}} ${s.count}`);
      }
    }
  }
  const counts = await vault.connections.countByStatus();
  lines.push('# HELP webex_auth_connections Connections by status.');
  lines.push('# TYPE webex_auth_connections gauge');
  for (const [status, n] of Object.entries(counts)) lines.push(`webex_auth_connections{status="${status}"} ${n}`);
  return `${lines.join('\n')}\n`;
}

/** The `/metrics` plugin. */
export const metricsRoutes: FastifyPluginAsync<MetricsOptions> = async (app, options) => {
  const { vault } = options;
  // A scraper is not a browser: a refusal is plain text with a Bearer challenge, not the admin pages' redirect or form.
  app.get('/metrics', { config: { access: 'anyone' } }, async (request, reply) => {
    if (!request.principal.admin) {
      return reply
        .code(401)
        .header('www-authenticate', 'Bearer realm="webex-auth"')
        .type('text/plain; charset=utf-8')
        .send('admin only: send Authorization: Bearer $ADMIN_TOKEN\n');
    }
    return reply
      .header('cache-control', 'no-store')
      .type('text/plain; version=0.0.4; charset=utf-8')
      .send(await renderMetrics(vault));
  });
};
