/** Walking every connection of a store with bounded memory, and the order connections are listed in. */
import type { ConnectionKind, ConnectionRow, Store } from './types.js';

/**
 * The order {@link Store.listConnections} lists connections in (oldest first, then by id), for rows read another way
 * that must come out as the listing would give them.
 */
export const listOrder = (a: ConnectionRow, b: ConnectionRow): number =>
  a.createdAt - b.createdAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

/** Connections read per page unless the caller says otherwise. */
export const CONNECTION_PAGE = 500;

/**
 * The connections of `store` a page at a time, in id order ({@link Store.pageConnections}), keeping only `status` and
 * `kind` when given: memory stays bounded by `limit` rows whatever the store holds. The next page is read only once
 * the caller asks for it, so rows written meanwhile are seen if their id comes later.
 */
export async function* connectionPages(
  store: Pick<Store, 'pageConnections'>,
  filter: { status?: ConnectionRow['status'] | undefined; kind?: ConnectionKind | undefined } = {},
  limit: number = CONNECTION_PAGE,
): AsyncGenerator<ConnectionRow[]> {
  let after: string | undefined;
  for (;;) {
    const page = await store.pageConnections({ ...filter, after, limit });
    const last = page.at(-1);
    if (!last) return;
    yield page;
    if (page.length < limit) return;
    after = last.id;
  }
}
