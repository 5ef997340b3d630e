import { Migrator, type Kysely } from 'kysely';
import { MIGRATIONS } from './migrations/index.js';

/**
 * Brings the schema up to date. Safe to run from several replicas at once: Kysely
 * holds a migration lock (an advisory lock on Postgres) while it works.
 */
export async function migrateToLatest(db: Kysely<any>) // eslint-disable-line @typescript-eslint/no-explicit-any
: Promise<void> {
  const migrator = new Migrator({ db, provider: { getMigrations: async () => MIGRATIONS } });
  const { error, results } = await migrator.migrateToLatest();
  if (error) {
    const failed = results?.find((result) => result.status === 'Error')?.migrationName ?? 'unknown';
    throw new Error(`Database migration ${failed} failed: ${error instanceof Error ? error.message : String(error)}`);
  }
}
