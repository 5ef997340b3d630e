import assert from 'node:assert/strict';
import { looseEntries } from '../support/stored-entries.js';
import { after, describe, test } from 'node:test';
import { Migrator, sql } from 'kysely';
import { loadConfig } from '../../src/config/app.config.js';
import { isPostgres, openDatabase } from '../../src/storage/database.provider.js';
import type { TestDb as Db } from '../support/all-tables.js';
import { IngestLogRepository } from '../../src/ingest-log/ingest-log.repository.js';
import { APP_MIGRATIONS } from '../../src/app.migrations.js';
import { migrateToLatest } from '../../src/storage/migrator.js';
import { BOTH_DATABASES } from '../support/databases.js';

/** The schema as it was before ingest-log rows held runs of entries. */
async function migrateToBeforeRuns(db: Db): Promise<void> {
  const schema = isPostgres(db) ? (await sql<{ schema: string }>`select current_schema() as schema`.execute(db)).rows[0]!.schema : undefined;
  const migrator = new Migrator({ db, provider: { getMigrations: async () => ({ ...APP_MIGRATIONS }) }, ...(schema ? { migrationTableSchema: schema } : {}) });
  const { error } = await migrator.migrateTo('0005-anomalies');
  if (error) throw error;
}

for (const { name, make } of BOTH_DATABASES) {
  describe(`ingest log upgrade on ${name}`, () => {
    const cleanups: Array<() => Promise<void>> = [];
    after(async () => {
      for (const cleanup of cleanups.reverse()) await cleanup();
    });

    test('entries written one per row before runs existed read back unchanged, and new ids follow them', async () => {
      const database = await make();
      const db: Db = openDatabase(loadConfig({ DATABASE_URL: database.url }).database);
      cleanups.push(() => database.drop(), () => db.destroy());
      await migrateToBeforeRuns(db);
      const old = [
        { kind: 'metric', receivedAt: 1_000, eventTime: 900, userId: null, item: { name: 'm', value: 1 } },
        { kind: 'log', receivedAt: 1_000, eventTime: 950, userId: 'user-1', item: { message: 'hello\nworld', level: 'info' } },
        { kind: 'metric', receivedAt: 2_000, eventTime: 1_900, userId: null, item: { name: 'm', value: 2 } },
      ] as const;
      for (const entry of old) {
        await sql`insert into ingest_log (kind, received_at, event_time, user_id, payload)
          values (${entry.kind}, ${entry.receivedAt}, ${entry.eventTime}, ${entry.userId}, ${JSON.stringify(entry.item)})`.execute(db);
      }
      await migrateToLatest(db, APP_MIGRATIONS);

      const log = new IngestLogRepository(db);
      const oldIds = (await db.selectFrom('ingest_log').select('id').orderBy('id').execute()).map((row) => Number(row.id));
      assert.equal(oldIds.length, 3);
      const appended = Array.from({ length: 5 }, (_, index) => ({ kind: 'metric' as const, eventTime: 3_000 + index, userId: null, item: { name: 'm', value: 10 + index } }));
      await db.transaction().execute((trx) => log.append(trx, looseEntries(appended), 4_000));
      const highest = await log.highestId();
      assert.equal(highest, oldIds[2]! + 5, 'new ids continue after the old ones');

      const read = await log.readAfter(db, 0, highest, ['metric', 'log'], 100);
      assert.deepEqual(
        read.map((entry) => [entry.id, entry.kind, entry.receivedAt, entry.eventTime, entry.payload, entry.bytes]),
        [
          ...old.map((entry, index) => [oldIds[index], entry.kind, entry.receivedAt, entry.eventTime, entry.item, JSON.stringify(entry.item).length]),
          ...appended.map((entry, index) => [oldIds[2]! + 1 + index, 'metric', 4_000, entry.eventTime, entry.item, JSON.stringify(entry.item).length]),
        ],
      );
      const metricBytes = [old[0], old[2], ...appended].reduce((sum, entry) => sum + JSON.stringify(entry.item).length, 0);
      assert.deepEqual(await log.countBetween(0, highest, ['metric']), { items: 7, bytes: metricBytes });
      assert.equal(await db.transaction().execute((trx) => log.deleteUser(trx, 'user-1')), 1);
    });
  });
}
