import assert from 'node:assert/strict';
import { looseEntries } from '../support/stored-entries.js';
import { statSync } from 'node:fs';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { loadConfig } from '../../src/config/app.config.js';
import { openDatabase, rawSqliteOf } from '../../src/storage/database.provider.js';
import { IngestLogRepository } from '../../src/ingest-log/ingest-log.repository.js';
import { APP_MIGRATIONS } from '../../src/app.migrations.js';
import { migrateToLatest } from '../../src/storage/migrator.js';
import { FALLBACK_AUTOCHECKPOINT_PAGES, WalCheckpointer } from '../../src/storage/wal-checkpointer.js';
import { captureNestLogs } from '../support/nest-logs.js';
import { storedEntries } from '../support/stored-entries.js';

async function until(condition: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('background WAL checkpoints (SQLite)', () => {
  test('the worker keeps the WAL small while the main connection only writes, and nothing committed is lost', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'vigil-wal-')), 'vigil.db');
    const db = openDatabase(loadConfig({ DATABASE_URL: `sqlite:${path}` }).database);
    await migrateToLatest(db, APP_MIGRATIONS);
    const connection = rawSqliteOf(db)!;
    const checkpointer = new WalCheckpointer(connection, path);
    checkpointer.start();
    assert.equal(connection.pragma('wal_autocheckpoint', { simple: true }), FALLBACK_AUTOCHECKPOINT_PAGES);

    const log = new IngestLogRepository(db);
    const item = { text: 'x'.repeat(1000) };
    const commits = 200;
    const perCommit = 200;
    let largestWal = 0;
    for (let commit = 0; commit < commits; commit++) {
      const entries = Array.from({ length: perCommit }, () => ({ kind: 'log' as const, eventTime: 1, userId: null, item }));
      await db.transaction().execute((trx) => log.append(trx, looseEntries(entries), 1));
      // 200 kB every 5 ms, 40 MB/s: faster than this machine ingests, slow
      // enough for checkpoints every 100 ms to matter.
      await new Promise((resolve) => setTimeout(resolve, 5));
      largestWal = Math.max(largestWal, statSync(`${path}-wal`).size);
    }
    const written = commits * perCommit * JSON.stringify(item).length;
    await until(() => checkpointer.lastCheckpoint !== undefined && checkpointer.lastCheckpoint.checkpointed === checkpointer.lastCheckpoint.frames, 'a complete checkpoint');
    // Without the worker, the WAL would hold all ~40 MB: the fallback bound (64 MiB) is never reached.
    assert.ok(largestWal < written / 2, `WAL grew to ${largestWal} bytes for ${written} written`);

    await checkpointer.stop();
    await db.destroy();
    const reopened = openDatabase(loadConfig({ DATABASE_URL: `sqlite:${path}` }).database);
    assert.equal((await storedEntries(reopened)).length, commits * perCommit);
    await reopened.destroy();
  });

  test('when the worker cannot run, the main connection goes back to checkpointing itself, and says so once', async (t) => {
    const logs = captureNestLogs();
    t.after(() => logs.restore());
    const path = join(mkdtempSync(join(tmpdir(), 'vigil-wal-')), 'vigil.db');
    const db = openDatabase(loadConfig({ DATABASE_URL: `sqlite:${path}` }).database);
    const connection = rawSqliteOf(db)!;
    const checkpointer = new WalCheckpointer(connection, join(path, 'missing', 'no.db'));
    checkpointer.start();
    await until(() => connection.pragma('wal_autocheckpoint', { simple: true }) === 1000, 'the fallback');
    await checkpointer.stop();
    await db.destroy();
    assert.equal(logs.lines.length, 1, logs.text.join('\n'));
    assert.match(logs.text[0]!, /^ERROR \[WalCheckpointer\] Background WAL checkpoints stopped \(.*directory does not exist\); the main connection checkpoints from now on$/);
  });
});
