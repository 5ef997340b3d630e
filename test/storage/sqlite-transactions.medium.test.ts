import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { Worker } from 'node:worker_threads';
import { loadConfig } from '../../src/config/app.config.js';
import { openDatabase } from '../../src/storage/database.provider.js';
import { ConsumerPositionsRepository } from '../../src/ingest-log/consumer-positions.repository.js';
import { APP_MIGRATIONS } from '../../src/app.migrations.js';
import { migrateToLatest } from '../../src/storage/migrator.js';

// Another connection (as the WAL checkpointer's RESTART does) holds the write lock
// for a while, then lets go.
const HOLD_WRITE_LOCK = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
const database = new Database(workerData.path);
database.exec('begin immediate');
parentPort.postMessage('locked');
Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, workerData.holdMs);
database.exec('commit');
database.close();
`;

test('SQLite: a transaction that reads and then writes waits for another connection’s write lock instead of failing with SQLITE_BUSY', async () => {
  const path = join(mkdtempSync(join(tmpdir(), 'vigil-tx-')), 'vigil.db');
  const db = openDatabase(loadConfig({ DATABASE_URL: `sqlite:${path}` }).database);
  try {
    await migrateToLatest(db, APP_MIGRATIONS);
    const positions = new ConsumerPositionsRepository(db);
    await positions.ensure('probe', 1);

    const holder = new Worker(HOLD_WRITE_LOCK, { eval: true, workerData: { path, holdMs: 300, driver: createRequire(import.meta.url).resolve('better-sqlite3') } });
    const exited = new Promise((resolve) => holder.once('exit', resolve));
    await new Promise((resolve) => holder.once('message', resolve));

    // The consumer pattern: read the position, then advance it, in one transaction.
    await db.transaction().execute(async (trx) => {
      const position = await positions.lock(trx, 'probe');
      await positions.set(trx, 'probe', (position ?? 0) + 41, 2);
    });
    await exited;
    const stored = await positions.all();
    assert.deepEqual(stored.find((row) => row.consumer === 'probe'), { consumer: 'probe', position: 41, updatedAt: 2 });
  } finally {
    await db.destroy();
  }
});
