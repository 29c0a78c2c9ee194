/** Addresses of the web app's pages that views link to and routes redirect to. */

/** The connection page of connection `id` (`/connections/:id`); its actions are below it (`…/refresh`, `…/try`). */
export function connectionPath(id: string): string {
  return `/connections/${encodeURIComponent(id)}`;
}
