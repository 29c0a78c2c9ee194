/**
 * The SQL store's statements for lifecycle-event webhooks (migration 007 on SQLite, 009 on PostgreSQL): endpoints
 * (secrets only envelope-encrypted) and a delivery log bounded per endpoint, in the same portable SQL as sql.ts;
 * {@link SqlStore} delegates to them.
 */
import type { Executor } from './sql.js';
import { nil, num, optNum, optStr, type Row } from './sql-rows.js';
import type { WebhookDeliveryRow, WebhookDeliveryUpdate, WebhookEndpointRow } from './types.js';

function endpointOf(r: Row): WebhookEndpointRow {
  return {
    id: String(r.id),
    ownerId: String(r.owner_id),
    connectionId: optStr(r.connection_id),
    url: String(r.url),
    secretEnc: String(r.secret_enc),
    keyId: String(r.key_id),
    description: optStr(r.description),
    createdAt: num(r.created_at),
  };
}

function deliveryOf(r: Row): WebhookDeliveryRow {
  return {
    id: String(r.id),
    endpointId: String(r.endpoint_id),
    eventId: String(r.event_id),
    type: String(r.type),
    payload: String(r.payload),
    attempts: num(r.attempts),
    lastStatus: optNum(r.last_status),
    lastError: optStr(r.last_error),
    createdAt: num(r.created_at),
    updatedAt: num(r.updated_at),
    deliveredAt: optNum(r.delivered_at),
  };
}

/** The webhook statements over an executor (see the `Store` methods of the same names). */
export class WebhookStatements {
  constructor(private readonly db: Executor) {}

  async insertWebhookEndpoint(row: WebhookEndpointRow): Promise<void> {
    await this.db.run(
      `INSERT INTO webhook_endpoints (id, owner_id, connection_id, url, secret_enc, key_id, description, created_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
      [
        row.id,
        row.ownerId,
        nil(row.connectionId),
        row.url,
        row.secretEnc,
        row.keyId,
        nil(row.description),
        row.createdAt,
      ],
    );
  }

  async getWebhookEndpoint(id: string): Promise<WebhookEndpointRow | undefined> {
    const r = (await this.db.all('SELECT * FROM webhook_endpoints WHERE id = ?', [id]))[0];
    return r ? endpointOf(r) : undefined;
  }

  async listWebhookEndpoints(ownerId?: string): Promise<WebhookEndpointRow[]> {
    const rows =
      ownerId === undefined
        ? await this.db.all('SELECT * FROM webhook_endpoints ORDER BY created_at, id')
        : await this.db.all('SELECT * FROM webhook_endpoints WHERE owner_id = ? ORDER BY created_at, id', [ownerId]);
    return rows.map(endpointOf);
  }

  async webhookTargets(ownerId: string, connectionId: string | undefined): Promise<WebhookEndpointRow[]> {
    const rows =
      connectionId === undefined
        ? await this.db.all(
            'SELECT * FROM webhook_endpoints WHERE owner_id = ? AND connection_id IS NULL ORDER BY created_at, id',
            [ownerId],
          )
        : await this.db.all(
            `SELECT * FROM webhook_endpoints WHERE owner_id = ? AND (connection_id IS NULL OR connection_id = ?)
             ORDER BY created_at, id`,
            [ownerId, connectionId],
          );
    return rows.map(endpointOf);
  }

  async deleteWebhookEndpoint(id: string): Promise<boolean> {
    await this.db.run('DELETE FROM webhook_deliveries WHERE endpoint_id = ?', [id]);
    return (await this.db.run('DELETE FROM webhook_endpoints WHERE id = ?', [id])) > 0;
  }

  async deleteConnectionWebhooks(connectionId: string): Promise<number> {
    await this.db.run(
      'DELETE FROM webhook_deliveries WHERE endpoint_id IN (SELECT id FROM webhook_endpoints WHERE connection_id = ?)',
      [connectionId],
    );
    return this.db.run('DELETE FROM webhook_endpoints WHERE connection_id = ?', [connectionId]);
  }

  async reencryptWebhookEndpoint(id: string, expectedSecretEnc: string, secretEnc: string, keyId: string) {
    const changed = await this.db.run(
      'UPDATE webhook_endpoints SET secret_enc = ?, key_id = ? WHERE id = ? AND secret_enc = ?',
      [secretEnc, keyId, id, expectedSecretEnc],
    );
    return changed > 0;
  }

  async insertWebhookDelivery(row: WebhookDeliveryRow, keep: number): Promise<void> {
    await this.db.run(
      `INSERT INTO webhook_deliveries (id, endpoint_id, event_id, type, payload, attempts, last_status, last_error,
         created_at, updated_at, delivered_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      [
        row.id,
        row.endpointId,
        row.eventId,
        row.type,
        row.payload,
        row.attempts,
        nil(row.lastStatus),
        nil(row.lastError),
        row.createdAt,
        row.updatedAt,
        nil(row.deliveredAt),
      ],
    );
    // The log is bounded per endpoint: the oldest rows beyond `keep` go.
    await this.db.run(
      `DELETE FROM webhook_deliveries WHERE endpoint_id = ? AND id NOT IN (
         SELECT id FROM webhook_deliveries WHERE endpoint_id = ? ORDER BY created_at DESC, id DESC LIMIT ?)`,
      [row.endpointId, row.endpointId, keep],
    );
  }

  async updateWebhookDelivery(id: string, update: WebhookDeliveryUpdate): Promise<boolean> {
    const changed = await this.db.run(
      `UPDATE webhook_deliveries SET attempts = ?, last_status = ?, last_error = ?, updated_at = ?,
         delivered_at = COALESCE(?, delivered_at) WHERE id = ?`,
      [update.attempts, nil(update.lastStatus), nil(update.lastError), update.updatedAt, nil(update.deliveredAt), id],
    );
    return changed > 0;
  }

  async getWebhookDelivery(id: string): Promise<WebhookDeliveryRow | undefined> {
    const r = (await this.db.all('SELECT * FROM webhook_deliveries WHERE id = ?', [id]))[0];
    return r ? deliveryOf(r) : undefined;
  }

  async listWebhookDeliveries(endpointId: string, limit: number): Promise<WebhookDeliveryRow[]> {
    const rows = await this.db.all(
      'SELECT * FROM webhook_deliveries WHERE endpoint_id = ? ORDER BY created_at DESC, id DESC LIMIT ?',
      [endpointId, limit],
    );
    return rows.map(deliveryOf);
  }
}
