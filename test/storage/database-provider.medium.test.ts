import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import BetterSqlite3 from 'better-sqlite3';
import { sql } from 'kysely';
import { loadConfig } from '../../src/config/app.config.js';
import type { Db } from '../../src/storage/database.js';
import { openDatabase, rawSqliteOf, withStatementCache } from '../../src/storage/database.provider.js';

/**
 * Runs `use` on an in-memory SQLite store, with the texts its connection compiled so far,
 * and closes the store after.
 */
async function withCountingStore(use: (db: Db, compiled: readonly string[]) => Promise<void>): Promise<void> {
  const db = openDatabase({ url: 'sqlite::memory:', dialect: 'sqlite', sqlitePath: ':memory:', sqliteCacheBytes: 2 * 1024 * 1024 });
  const connection = rawSqliteOf(db)!;
  const compile = connection.prepare.bind(connection);
  const compiled: string[] = [];
  connection.prepare = ((text: string) => {
    compiled.push(text);
    return compile(text);
  }) as typeof connection.prepare;
  try {
    await use(db, compiled);
  } finally {
    await db.destroy();
  }
}

describe('SQLite statement cache', () => {
  test('a query run again reuses its statement and still answers with its own parameters', () =>
    withCountingStore(async (db, compiled) => {
      for (let value = 0; value < 10; value++) {
        const result = await sql<{ doubled: number }>`select ${value} * 2 as doubled`.execute(db);
        assert.deepEqual(result.rows, [{ doubled: value * 2 }]);
      }
      assert.equal(compiled.length, 1);
    }));

  test('transactions begin and end on cached statements, and roll back', () =>
    withCountingStore(async (db, compiled) => {
      await sql`create table t (v integer)`.execute(db);
      for (let round = 0; round < 3; round++) {
        await db.transaction().execute((trx) => sql`insert into t values (${round})`.execute(trx));
        await assert.rejects(
          db.transaction().execute(async (trx) => {
            await sql`insert into t values (${100 + round})`.execute(trx);
            throw new Error('abandon');
          }),
          /abandon/,
        );
      }
      const rows = await sql<{ v: number }>`select v from t order by v`.execute(db);
      assert.deepEqual(rows.rows.map((row) => row.v), [0, 1, 2]);
      // create, begin immediate, insert, commit, rollback, select: each compiled once.
      assert.equal(compiled.length, 6);
    }));

  test('holds at most 256 statements, dropping the least recently used', () =>
    withCountingStore(async (db, compiled) => {
      const query = (index: number) => sql.raw(`select ${index} as n`).execute(db);
      for (let index = 0; index < 256; index++) await query(index);
      await query(0); // now the most recently used
      await query(256); // evicts 1, the least recently used
      assert.equal(compiled.length, 257);
      await query(0);
      assert.equal(compiled.length, 257, 'statement 0 was used recently and stayed');
      await query(1);
      assert.equal(compiled.length, 258, 'statement 1 was dropped and is compiled again');
      assert.deepEqual((await query(1)).rows, [{ n: 1 }]);
    }));

  test('a statement still iterating is not handed out again: the same text gets a statement of its own', () => {
    // Kysely never asks for it (one query at a time per connection); the cache must still be safe if it did.
    const connection = new BetterSqlite3(':memory:');
    try {
      const cache = withStatementCache(connection);
      const text = 'select value from json_each(?)';
      const first = cache.prepare(text) as BetterSqlite3.Statement;
      const rows = first.iterate('[1,2,3]');
      assert.deepEqual(rows.next().value, { value: 1 });
      const second = cache.prepare(text) as BetterSqlite3.Statement;
      assert.notEqual(second, first);
      assert.deepEqual(second.all('[7,8]'), [{ value: 7 }, { value: 8 }]);
      assert.deepEqual([...rows], [{ value: 2 }, { value: 3 }]);
      assert.equal(cache.prepare(text), first, 'once done, the cached statement is handed out again');
    } finally {
      connection.close();
    }
  });
});

describe('SQLite page cache', () => {
  test("the main connection's page cache is the memory budget's share (cache_size in KiB), 64 MiB at the default budget", async () => {
    const sized = openDatabase({ url: 'sqlite::memory:', dialect: 'sqlite', sqlitePath: ':memory:', sqliteCacheBytes: 3 * 1024 * 1024 + 512 });
    const byDefault = openDatabase(loadConfig({ DATABASE_URL: 'sqlite::memory:' }).database);
    try {
      // 3 MiB and a half KiB: whole KiB, rounded down.
      assert.equal(rawSqliteOf(sized)!.pragma('cache_size', { simple: true }), -3072);
      assert.equal(rawSqliteOf(byDefault)!.pragma('cache_size', { simple: true }), -64 * 1024);
    } finally {
      await sized.destroy();
      await byDefault.destroy();
    }
  });
});
