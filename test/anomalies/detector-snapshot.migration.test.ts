/**
 * Migration 0008: snapshots of the detector before issue 23 (isolation forests, version 1) are discarded
 * (state NULL) on a database written by the previous version; each series keeps its row, counters and
 * snapshot id, so its new detector learns from the points after that id.
 */
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { sql } from 'kysely';
import { APP_MIGRATIONS } from '../../src/app.migrations.js';
import { loadConfig } from '../../src/config/app.config.js';
import { openDatabase } from '../../src/storage/database.provider.js';
import { migrateToLatest } from '../../src/storage/migrator.js';
import type { TestDb } from '../support/all-tables.js';

const FIXTURE = fileURLToPath(new URL('../../../test/fixtures/previous-version/vigil-d5dd4bb.db', import.meta.url));

test('migration 0008 discards version-1 detector snapshots and keeps the series rows', async () => {
  const path = join(mkdtempSync(join(tmpdir(), 'vigil-detector-v2-')), 'vigil.db');
  copyFileSync(FIXTURE, path);
  const db: TestDb = openDatabase(loadConfig({ DATABASE_URL: `sqlite:${path}` }).database);
  try {
    const counters = JSON.stringify({ processed: 3, modelled: 3, mean: 1, m2: 0, min: 1, max: 1, anomalies: 0, trained: true });
    const oldState = JSON.stringify({ version: 1, n: 3, lastTs: 2, local: [1, 1, 1], model: { seed: 7, sample: [[1, 0, 0]], trainedAt: 3 } });
    await sql`INSERT INTO anomaly_series (series_id, source, metric, tags, snapshot_id, state, counters, updated_at) VALUES ('s1', 'metric', 'cpu', '{}', 41, ${oldState}, ${counters}, 5)`.execute(db);
    await migrateToLatest(db, APP_MIGRATIONS);
    const rows = await db.selectFrom('anomaly_series').select(['series_id', 'snapshot_id', 'state', 'counters']).execute();
    assert.deepEqual(
      rows.map((row) => [row.series_id, Number(row.snapshot_id), row.state, row.counters]),
      [['s1', 41, null, counters]],
    );
  } finally {
    await db.destroy();
  }
});
