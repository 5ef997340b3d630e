import { Migrator, sql, type Kysely } from 'kysely';
import { isPostgres } from './database.provider.js';
import { MIGRATIONS } from './migrations/index.js';

/**
 * Brings the schema up to date. Safe to run from several replicas at once: Kysely
 * holds a migration lock (an advisory lock on Postgres) while it works.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function migrateToLatest(db: Kysely<any>): Promise<void> {
  // On Postgres the bookkeeping tables live in the connection's own schema
  // (search_path), so several Vigil deployments can share one database.
  const schema = isPostgres(db) ? (await sql<{ schema: string }>`select current_schema() as schema`.execute(db)).rows[0]?.schema : undefined;
  const migrator = new Migrator({
    db,
    provider: { getMigrations: async () => MIGRATIONS },
    ...(schema ? { migrationTableSchema: schema } : {}),
  });
  const { error, results } = await migrator.migrateToLatest();
  if (error) {
    const failed = results?.find((result) => result.status === 'Error')?.migrationName ?? 'unknown';
    throw new Error(`Database migration ${failed} failed: ${error instanceof Error ? error.message : String(error)}`);
  }
}
