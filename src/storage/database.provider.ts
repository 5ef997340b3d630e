import BetterSqlite3 from 'better-sqlite3';
import {
  CompiledQuery,
  Kysely,
  PostgresDialect,
  SqliteDialect,
  SqliteDriver,
  type DatabaseConnection,
  type Driver,
  type SqliteDatabase,
  type SqliteDialectConfig,
} from 'kysely';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import pg from 'pg';
import type { AppConfig } from '../config/app.config.js';
import type { Db } from './database.js';

export const DATABASE = Symbol('DATABASE');

// int8 and numeric come back from pg as strings; every such value Vigil stores
// (ids, epoch milliseconds, counts, sums) fits a double exactly.
pg.types.setTypeParser(pg.types.builtins.INT8, (value) => Number(value));
pg.types.setTypeParser(pg.types.builtins.NUMERIC, (value) => Number(value));

/**
 * Opens the store named by DATABASE_URL. SQLite runs in WAL mode with
 * synchronous=NORMAL: a committed transaction survives the process being killed
 * (kill -9), which is the durability the ingest contract promises; it may lose the
 * last commits only if the operating system itself crashes.
 */
// The better-sqlite3 handle behind each SQLite Kysely instance, for the one hot
// path that uses it directly (ingest-log appends).
const sqliteHandles = new WeakMap<object, BetterSqlite3.Database>();

export function rawSqliteOf<Tables>(db: Kysely<Tables>): BetterSqlite3.Database | undefined {
  return sqliteHandles.get(db);
}

/**
 * SQLite transactions begin IMMEDIATE: they take the write lock up front, waiting
 * on busy_timeout if another connection holds it. A DEFERRED transaction that read
 * first and then writes cannot wait: when the lock is taken meanwhile (by the WAL
 * checkpointer's RESTART, which holds it while readers finish), SQLite fails the
 * write with SQLITE_BUSY at once, since waiting could deadlock. Consumer batches
 * read their position before writing, and failed that way under load. All of this
 * process's queries share one connection, so taking the lock early costs nothing.
 */
class ImmediateSqliteDriver extends SqliteDriver {
  override async beginTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw('begin immediate'));
  }
}

class ImmediateSqliteDialect extends SqliteDialect {
  constructor(private readonly settings: SqliteDialectConfig) {
    super(settings);
  }

  override createDriver(): Driver {
    return new ImmediateSqliteDriver(this.settings);
  }
}

/**
 * Prepared statements kept per connection. Kysely's SQLite driver prepares every query
 * anew, and compiling the SQL (begin, commit, each consumer's reads and writes) cost more
 * than running many of them: about 2 % of the request thread under single-item ingest,
 * where every commit begins and ends a transaction. Texts vary with the number of bound
 * values (`in` lists, multi-row inserts), so the cache is bounded; when full it drops its
 * least recently used statement, which is then only prepared again on its next use.
 */
const CACHED_STATEMENTS = 256;

/** The connection as Kysely sees it, with prepare() answered from a bounded cache. */
export function withStatementCache(database: BetterSqlite3.Database): SqliteDatabase {
  const statements = new Map<string, BetterSqlite3.Statement>();
  return {
    close: () => database.close(),
    prepare(sql: string) {
      const cached = statements.get(sql);
      // A statement still iterating a result (a stream read) cannot run again until it is done.
      if (cached !== undefined && !cached.busy) {
        statements.delete(sql);
        statements.set(sql, cached);
        return cached;
      }
      const statement = database.prepare(sql);
      if (cached === undefined) {
        if (statements.size >= CACHED_STATEMENTS) statements.delete(statements.keys().next().value!);
        statements.set(sql, statement);
      }
      return statement;
    },
  };
}

export function openDatabase(config: AppConfig['database']): Db {
  if (config.dialect === 'sqlite') {
    const path = config.sqlitePath!;
    if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
    const database = new BetterSqlite3(path);
    database.pragma('journal_mode = WAL');
    database.pragma('synchronous = NORMAL');
    database.pragma('busy_timeout = 5000');
    database.pragma('foreign_keys = ON');
    // The page cache is the memory budget's share (src/config/memory-budget.ts; SQLite's default
    // is 2 MiB): analytics and rollup indexes are updated in random key order, which thrashes a
    // small cache. A negative cache_size is in KiB. It is native memory, outside V8's heap.
    database.pragma(`cache_size = -${Math.floor(config.sqliteCacheBytes / 1024)}`);
    database.pragma('temp_store = MEMORY');
    const db = new Kysely({ dialect: new ImmediateSqliteDialect({ database: withStatementCache(database) }) });
    sqliteHandles.set(db, database);
    return db;
  }
  const pool = new pg.Pool({ connectionString: config.url, max: 10 });
  // An idle client's error (server restart) must not crash the process; the
  // pool replaces the client and the next query reports the problem.
  pool.on('error', () => undefined);
  return new Kysely({ dialect: new PostgresDialect({ pool }) });
}

export function isPostgres<Tables>(db: Kysely<Tables>): boolean {
  return db.getExecutor().adapter.constructor.name === 'PostgresAdapter';
}
