import { Migrator, sql, type Migration } from 'kysely';
import type { Db } from './database.js';
import { isPostgres } from './database.provider.js';

/**
 * A feature's migrations by name. Names are permanent once released (Kysely records them
 * in the database): add new ones, never rename or edit one that has run somewhere. Every
 * feature's names share one sequence, `NNNN-feature-change`, since all run in name order.
 */
export type Migrations = Readonly<Record<string, Migration>>;

/** Every feature's migrations as one set, in name order; a name registered twice is a mistake. */
export function collectMigrations(...features: readonly Migrations[]): Migrations {
  const all = new Map<string, Migration>();
  for (const feature of features) {
    for (const [name, migration] of Object.entries(feature)) {
      if (all.has(name)) throw new Error(`Migration ${name} is registered twice`);
      all.set(name, migration);
    }
  }
  return Object.fromEntries([...all].sort(([left], [right]) => left.localeCompare(right)));
}

/**
 * Brings the schema up to date with `migrations` (collectMigrations). Safe to run from
 * several replicas at once: Kysely holds a migration lock (an advisory lock on Postgres)
 * while it works, and runs migrations in name order.
 */
export async function migrateToLatest<Tables>(db: Db<Tables>, migrations: Migrations): Promise<void> {
  // On Postgres the bookkeeping tables live in the connection's own schema
  // (search_path), so several Vigil deployments can share one database.
  const schema = isPostgres(db) ? (await sql<{ schema: string }>`select current_schema() as schema`.execute(db)).rows[0]?.schema : undefined;
  const migrator = new Migrator({
    db,
    provider: { getMigrations: async () => ({ ...migrations }) },
    ...(schema ? { migrationTableSchema: schema } : {}),
  });
  const { error, results } = await migrator.migrateToLatest();
  if (error) {
    const failed = results?.find((result) => result.status === 'Error')?.migrationName ?? 'unknown';
    throw new Error(`Database migration ${failed} failed: ${error instanceof Error ? error.message : String(error)}`);
  }
}
