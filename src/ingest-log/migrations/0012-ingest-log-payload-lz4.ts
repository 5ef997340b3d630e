import { sql, type Kysely } from 'kysely';
import { isPostgres } from '../../storage/database.provider.js';

/**
 * Postgres only: payloads (a run's JSON, ~200 KB for a 1000-point batch) are compressed with lz4
 * instead of the default pglz. Measured on this machine, a commit of five such rows took 27 ms with
 * pglz and 15 ms with lz4, most of it the server compressing. Servers built without lz4 keep pglz
 * (the setting is checked, not assumed). Only new rows are written with lz4; old ones stay readable.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  if (!isPostgres(db)) return;
  const supported = await sql<{ lz4: boolean }>`
    select coalesce(bool_or('lz4' = any(enumvals)), false) as lz4 from pg_settings where name = 'default_toast_compression'`.execute(db);
  if (supported.rows[0]?.lz4) await sql`alter table ingest_log alter column payload set compression lz4`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  if (!isPostgres(db)) return;
  await sql`alter table ingest_log alter column payload set compression default`.execute(db);
}
