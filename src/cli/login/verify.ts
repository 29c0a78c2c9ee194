/**
 * The id_token check of every CLI login: exactly the web app's (src/server/routes/oauth.ts) — one call to
 * {@link verifyTokenSetIdToken} with the configured issuer (`WEBEX_ISSUER`, else discovery's) — so that a token set
 * the web app would refuse (wrong issuer, audience or nonce, bad signature) is never stored by the CLI either.
 */
import type { Config } from '../../config.js';
import type { IdTokenClaims } from '../../oauth/oidc.js';
import type { Integration, TokenSet } from '../../oauth/types.js';

/**
 * Verifies the id_token of a login before anything is stored. The code flow passes its pending authorization
 * (with the nonce it sent when openid was asked); the device grant, which sends no nonce, passes `{}` and is checked
 * when Webex returned an id_token. Nothing is checked when openid was not requested and no id_token came back.
 * @returns the verified claims (they name the person when people/me is refused), or undefined when nothing was checked.
 * @throws {IdTokenError} when the id_token is missing (a nonce was sent) or fails verification.
 */
export async function verifyLoginIdToken(
  tokens: TokenSet,
  integration: Integration,
  pending: { nonce?: string | undefined },
  config: Pick<Config, 'issuer'>,
  signal: AbortSignal,
): Promise<IdTokenClaims | undefined> {
  if (pending.nonce === undefined && tokens.idToken === undefined) return undefined;
  // Loaded on openid logins only: jose is not on the path of a plain login (as in the web app).
  const { verifyTokenSetIdToken } = await import('../../oauth/oidc.js');
  return verifyTokenSetIdToken(tokens, integration, pending, {
    signal,
    ...(config.issuer ? { issuer: config.issuer } : {}),
  });
}
