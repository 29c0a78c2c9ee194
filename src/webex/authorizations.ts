/**
 * Webex's Authorizations API (docs/webex-api.md, "Authorizations"): an org admin's token with `identity:tokens_read`
 * lists a person's grants (`GET /v1/authorizations?personId=…`), one with `identity:tokens_write` deletes one
 * (`DELETE /v1/authorizations/{id}`; deleting a refresh authorization ends its access tokens). Answers are validated
 * here, at the boundary; no token ever appears in an error.
 */
import { z } from 'zod';
import type { FetchLike } from '../oauth/types.js';

/** One authorization (grant) of a person, as Webex lists it. */
export const authorizationSchema = z.looseObject({
  id: z.string().min(1).max(2000),
  applicationId: z.string().max(2000).optional(),
  applicationName: z.string().max(2000).optional(),
  personId: z.string().max(2000).optional(),
  clientId: z.string().max(2000).optional(),
  created: z.string().max(100).optional(),
  type: z.string().max(50).optional(),
});
/** One authorization of a person. */
export type Authorization = z.infer<typeof authorizationSchema>;

const listSchema = z.looseObject({ items: z.array(authorizationSchema).max(100_000) });

/** A call to the Authorizations API failed: `status` is Webex's (0: no answer). */
export class AuthorizationsError extends Error {
  override name = 'AuthorizationsError';
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

async function call(fetchImpl: FetchLike, url: string, token: string, method: 'GET' | 'DELETE'): Promise<Response> {
  try {
    return await fetchImpl(url, {
      method,
      headers: { authorization: `Bearer ${token}`, accept: 'application/json' },
      signal: AbortSignal.timeout(15_000),
    });
  } catch {
    throw new AuthorizationsError(0, `Webex did not answer ${method} ${new URL(url).pathname}.`);
  }
}

/** The grants of one person (every client): refresh and access authorizations. */
export async function listAuthorizations(
  apiBase: string,
  adminToken: string,
  personId: string,
  fetchImpl: FetchLike = fetch,
): Promise<Authorization[]> {
  const url = `${apiBase}/authorizations?${new URLSearchParams({ personId })}`;
  const res = await call(fetchImpl, url, adminToken, 'GET');
  if (!res.ok) {
    await res.body?.cancel();
    throw new AuthorizationsError(res.status, `Webex answered ${res.status} to GET /authorizations.`);
  }
  const parsed = listSchema.safeParse(await res.json().catch(() => undefined));
  if (!parsed.success) throw new AuthorizationsError(res.status, 'Webex sent an unexpected /authorizations answer.');
  return parsed.data.items;
}

/** Deletes one authorization (a refresh authorization ends its access tokens too); a 404 counts as done. */
export async function deleteAuthorization(
  apiBase: string,
  adminToken: string,
  authorizationId: string,
  fetchImpl: FetchLike = fetch,
): Promise<void> {
  const url = `${apiBase}/authorizations/${encodeURIComponent(authorizationId)}`;
  const res = await call(fetchImpl, url, adminToken, 'DELETE');
  await res.body?.cancel();
  if (!res.ok && res.status !== 404) {
    throw new AuthorizationsError(res.status, `Webex answered ${res.status} to DELETE /authorizations/{id}.`);
  }
}
