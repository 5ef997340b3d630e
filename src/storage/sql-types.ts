import type { Kysely } from 'kysely';
import { isPostgres } from './database.provider.js';

/**
 * Column types that differ between the two stores, so that one set of migrations
 * serves both. Epoch milliseconds and ids are 64-bit on Postgres.
 */
export function columnTypes(db: Kysely<unknown>) {
  const postgres = isPostgres(db);
  return {
    /** Auto-incrementing 64-bit primary key. */
    serialId: postgres ? ('bigserial' as const) : ('integer' as const),
    bigint: 'bigint' as const,
    double: postgres ? ('double precision' as const) : ('real' as const),
    blob: postgres ? ('bytea' as const) : ('blob' as const),
    postgres,
  };
}
