import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../../src/config/app.config.js';
import { APP_MIGRATIONS } from '../../src/app.migrations.js';
import { ConsumerPositionsRepository } from '../../src/ingest-log/consumer-positions.repository.js';
import { IngestLogRepository } from '../../src/ingest-log/ingest-log.repository.js';
import { openDatabase } from '../../src/storage/database.provider.js';
import { migrateToLatest } from '../../src/storage/migrator.js';
import type { TestDb } from '../support/all-tables.js';
import '../support/shared-payloads.js';

// The fixture sits in the source tree; tests run from dist/.
const FIXTURE = fileURLToPath(new URL('../../../test/fixtures/previous-version/vigil-d5dd4bb.db', import.meta.url));
const T = Date.UTC(2026, 0, 10, 12);

describe('a database written by the previous version (d5dd4bb, SQLite)', () => {
  const cleanups: Array<() => Promise<void>> = [];
  after(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
  });

  async function open(): Promise<TestDb> {
    const path = join(mkdtempSync(join(tmpdir(), 'vigil-previous-')), 'vigil.db');
    copyFileSync(FIXTURE, path);
    const db: TestDb = openDatabase(loadConfig({ DATABASE_URL: `sqlite:${path}` }).database);
    cleanups.push(() => db.destroy());
    return db;
  }

  test('migrates in place: every migration it recorded keeps its name, and only later ones run', async () => {
    const db = await open();
    const recorded = async () => (await db.selectFrom('kysely_migration' as never).select('name' as never).orderBy('name' as never).execute()).map((row) => (row as { name: string }).name);
    const before = await recorded();
    assert.equal(before.length, 7);
    assert.deepEqual(before, Object.keys(APP_MIGRATIONS).slice(0, before.length), 'the features register the names the previous version recorded, in its order, first');
    await migrateToLatest(db, APP_MIGRATIONS);
    assert.deepEqual(await recorded(), Object.keys(APP_MIGRATIONS));
  });

  test('its ingest log, positions and the rows of every feature read back as written', async () => {
    const db = await open();
    await migrateToLatest(db, APP_MIGRATIONS);
    const log = new IngestLogRepository(db);
    const highest = await log.highestId();
    assert.equal(highest, 6);

    const metrics = await log.readAfter(db, 0, highest, ['metric'], 100);
    assert.deepEqual(
      metrics.map((entry) => [entry.id, entry.eventTime, entry.receivedAt, entry.payload.name, entry.payload.value, entry.payload.tags]),
      [
        [1, T, T + 10, 'cpu', 0.5, { host: 'a' }],
        [2, T + 1, T + 10, 'cpu', 0.75, { host: 'a' }],
      ],
    );
    const [request] = await log.readAfter(db, 0, highest, ['request'], 100);
    assert.deepEqual([request!.id, request!.payload.service, request!.payload.durationMs, request!.payload.success], [3, 'api', 12.5, true]);
    const all = await log.readAfter(db, 0, highest, ['metric', 'event', 'log', 'request', 'analytics'], 100);
    assert.deepEqual(all.map((entry) => [entry.id, entry.kind]), [[1, 'metric'], [2, 'metric'], [3, 'request'], [4, 'log'], [5, 'analytics'], [6, 'event']]);
    const logEntry = all.find((entry) => entry.kind === 'log');
    assert.equal(logEntry?.kind === 'log' ? logEntry.payload.message : undefined, 'hello\nworld');

    const positions = new ConsumerPositionsRepository(db);
    assert.equal(await positions.get('sla'), 3);
    assert.equal(await positions.get('delivery:datadog'), 0);

    const rollups = await db.selectFrom('sla_rollups').select(['resolution', 'service', 'total', 'failed']).orderBy('resolution').execute();
    assert.deepEqual(rollups.map((row) => [row.resolution, row.service, Number(row.total), Number(row.failed)]), [['day', 'api', 1, 0], ['hour', 'api', 1, 0], ['minute', 'api', 1, 0]]);
    assert.equal((await db.selectFrom('sla_targets').select('name').executeTakeFirstOrThrow()).name, 'API');
    assert.equal((await db.selectFrom('analytics_events').select('page').where('user_id', '=', 'user-1').executeTakeFirstOrThrow()).page, '/home');
    assert.equal((await db.selectFrom('delivery_dead_letters').select('detail').where('destination', '=', 'datadog').executeTakeFirstOrThrow()).detail, 'bad');
    assert.equal(Number((await db.selectFrom('anomalies').select('score').executeTakeFirstOrThrow()).score), 0.9);
    assert.equal(Number((await db.selectFrom('anomaly_state').select('value').where('name', '=', 'data_time').executeTakeFirstOrThrow()).value), T + 1);

    // New entries follow the old ones, and erasure still finds the user's rows.
    await db.transaction().execute((trx) =>
      log.append(trx, [{ kind: 'metric', eventTime: T + 100, userId: null, item: { name: 'cpu', value: 1, type: 'gauge', timestamp: T + 100, tags: {} } }], T + 100),
    );
    assert.equal(await log.highestId(), 7);
    assert.equal(await db.transaction().execute((trx) => log.deleteUser(trx, 'user-1')), 2);
  });
});
