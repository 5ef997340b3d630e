import type { Kysely, Transaction } from 'kysely';

/**
 * The one database, typed by the tables of whoever uses it. Storage knows no table: each
 * feature names its own in `<feature>.tables.ts` (with its migrations beside them) and sees
 * the database through them, `Db<SlaTables>`; the default, no tables, is the database as
 * storage opens it.
 *
 * A transaction handed from one feature to another (the ingest-log runner's batch
 * transaction, the user-erasure transaction) is opened as a `Tx` with no tables, and each
 * receiver takes it as its own view (`Tx<SlaTables>`): Kysely's types accept a view with
 * tables added, which at run time is the same object (what `withTables` does). A view
 * cannot be passed back as `Tx`, so such a transaction is opened from a `Db` with no tables.
 */
export type Db<Tables = {}> = Kysely<Tables>; // eslint-disable-line @typescript-eslint/no-empty-object-type
export type Tx<Tables = {}> = Transaction<Tables>; // eslint-disable-line @typescript-eslint/no-empty-object-type
/** Either the database or a transaction: repositories take this so callers choose the unit of work. */
export type Executor<Tables = {}> = Db<Tables> | Tx<Tables>; // eslint-disable-line @typescript-eslint/no-empty-object-type

/**
 * A transaction seen through some feature's tables, handed on as a `Tx` with none (user
 * erasure passes one transaction to every feature's eraser): the same object. Kysely's
 * types add tables to a view but never drop them, so this is the one place that does.
 */
export function withoutTables<Tables>(trx: Tx<Tables>): Tx {
  return trx as unknown as Tx;
}
