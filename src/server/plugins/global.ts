/**
 * Marks a Fastify plugin as non-encapsulated, so its hooks and decorations apply to the whole app. This is exactly
 * what the `fastify-plugin` package does (the documented `skip-override` symbol), without adding it as a dependency.
 */
import type { FastifyPluginAsync } from 'fastify';

/** Returns `plugin`, marked so that Fastify does not wrap it in its own encapsulation context. */
export function globalPlugin<T extends FastifyPluginAsync<never>>(plugin: T): T {
  (plugin as unknown as Record<symbol, boolean>)[Symbol.for('skip-override')] = true;
  return plugin;
}
