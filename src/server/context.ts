/**
 * What the route plugins share: the configuration, the vault, the fetch used for Webex, and the default integration.
 * Passed to each plugin as an option (no module-level singletons).
 */
import type { Config } from '../config.js';
import type { FetchLike } from '../oauth/types.js';
import type { ServerVault } from './ports.js';

/** The shared dependencies of the route plugins. */
export interface ServerContext {
  config: Config;
  vault: ServerVault;
  fetch: FetchLike;
  /** The vault id of the configured (or demo) integration, if any. */
  defaultIntegrationId: string | undefined;
  /** Paths that serve the authorization callback. */
  callbackPaths: Set<string>;
}
