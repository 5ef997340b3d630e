import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { openDatabase } from '../../src/storage/database.provider.js';
import { loadConfig } from '../../src/config/app.config.js';
import { BOTH_DATABASES } from '../support/databases.js';
import { startChildVigil } from '../support/child-process.js';
import { storedItems } from '../support/stored-entries.js';

/**
 * A real Vigil process is killed with SIGKILL while requests are in flight, right
 * after it answered 202s: every item of every 202 must be in the store.
 */
for (const { name, make } of BOTH_DATABASES) {
  describe(`crash durability on ${name}`, () => {
    test('kill -9 after 202s loses no accepted item', async () => {
      const database = await make();
      try {
        const vigil = await startChildVigil({ DATABASE_URL: database.url });
        const acknowledged: number[] = [];
        let next = 0;
        let killed = false;
        const sender = async () => {
          while (!killed) {
            const first = next;
            next += 20;
            const metrics = Array.from({ length: 20 }, (_, offset) => ({ name: 'crash.test', value: first + offset }));
            try {
              const response = await fetch(`${vigil.url}/ingest/metrics`, {
                method: 'POST',
                headers: { 'content-type': 'application/json' },
                body: JSON.stringify({ metrics }),
              });
              if (response.status === 202) for (const metric of metrics) acknowledged.push(metric.value);
            } catch {
              return; // the process is gone
            }
          }
        };
        const senders = Array.from({ length: 8 }, sender);
        while (acknowledged.length < 2000) await new Promise((resolve) => setTimeout(resolve, 5));
        vigil.process.kill('SIGKILL');
        killed = true;
        await Promise.all(senders);
        assert.equal((await vigil.exited).signal, 'SIGKILL');

        const db = openDatabase(loadConfig({ DATABASE_URL: database.url }).database);
        try {
          const stored = new Set((await storedItems<{ value: number }>(db, ['metric'])).map((item) => item.value));
          const lost = acknowledged.filter((value) => !stored.has(value));
          assert.equal(lost.length, 0, `${lost.length} of ${acknowledged.length} acknowledged items lost`);
          assert.ok(acknowledged.length >= 2000);
        } finally {
          await db.destroy();
        }

        // The store opens cleanly in a new process and keeps accepting.
        const restarted = await startChildVigil({ DATABASE_URL: database.url });
        const after = await fetch(`${restarted.url}/ingest/metrics`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ metrics: [{ name: 'crash.test', value: -1 }] }),
        });
        assert.equal(after.status, 202);
        restarted.process.kill('SIGTERM');
        assert.deepEqual(await restarted.exited, { code: 0, signal: null });
      } finally {
        await database.drop();
      }
    });
  });
}

describe('graceful shutdown', () => {
  test('SIGTERM sent to `npm run start:prod` reaches Vigil, which drains and exits 0', async () => {
    const { sqliteDatabase } = await import('../support/databases.js');
    const vigil = await startChildVigil({ DATABASE_URL: sqliteDatabase().url, LOG_LEVEL: 'info' }, 'start:prod');
    vigil.process.kill('SIGTERM'); // npm's pid: the service is its child
    assert.deepEqual(await vigil.exited, { code: 0, signal: null });
    assert.match(vigil.output(), /Shutdown complete/);
    // Node and library deprecation or experimental warnings go to stderr: a start-up prints none.
    assert.doesNotMatch(vigil.output(), /Warning|DEP\d{3,}/);
    // Nothing is left serving (an orphaned server would still answer).
    await assert.rejects(fetch(`${vigil.url}/health/live`));
  });

  test('SIGTERM under load: every 202 is stored, later requests are refused, exit 0', async () => {
    const { sqliteDatabase } = await import('../support/databases.js');
    const database = sqliteDatabase();
    const vigil = await startChildVigil({ DATABASE_URL: database.url });
    const acknowledged: number[] = [];
    const refused: number[] = [];
    let next = 0;
    let stopping = false;
    const sender = async () => {
      for (;;) {
        const first = next;
        next += 10;
        const metrics = Array.from({ length: 10 }, (_, offset) => ({ name: 'shutdown.test', value: first + offset }));
        try {
          const response = await fetch(`${vigil.url}/ingest/metrics`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ metrics }),
          });
          await response.arrayBuffer();
          if (response.status === 202) metrics.forEach((metric) => acknowledged.push(metric.value));
          else {
            refused.push(response.status);
            if (stopping) return;
          }
        } catch {
          return; // the server closed
        }
      }
    };
    const senders = Array.from({ length: 6 }, sender);
    while (acknowledged.length < 1000) await new Promise((resolve) => setTimeout(resolve, 5));
    vigil.process.kill('SIGTERM');
    stopping = true;
    await Promise.all(senders);
    assert.deepEqual(await vigil.exited, { code: 0, signal: null });
    assert.ok(refused.every((status) => status === 503), `refusals: ${[...new Set(refused)].join(',')}`);

    const db = openDatabase(loadConfig({ DATABASE_URL: database.url }).database);
    try {
      const stored = new Set((await storedItems<{ value: number }>(db, ['metric'])).map((item) => item.value));
      assert.equal(acknowledged.filter((value) => !stored.has(value)).length, 0);
    } finally {
      await db.destroy();
    }
  });
});
