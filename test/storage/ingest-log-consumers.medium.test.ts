import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ManualClock } from '../../src/common/clock.js';
import { ingestLogSuite } from '../support/ingest-log-context.js';
import { INGEST_LOG_RUN_ENTRIES, IngestLogRepository } from '../../src/ingest-log/ingest-log.repository.js';
import { type LogEntry } from '../../src/ingest-log/log-entry.js';
import { ConsumerPositionsRepository } from '../../src/ingest-log/consumer-positions.repository.js';
import { DerivedStateRunner, type DerivedStateConsumer } from '../../src/ingest-log/log-consumers.js';
import { RetentionJob } from '../../src/ingest-log/retention.job.js';
import { DATABASE } from '../../src/storage/database.provider.js';
import type { Tx } from '../../src/storage/database.js';
import type { IngestLogTables } from '../../src/ingest-log/ingest-log.tables.js';
import type { TestDb as Db } from '../support/all-tables.js';
import { BOTH_DATABASES } from '../support/databases.js';
import { looseEntries, storedEntries } from '../support/stored-entries.js';

const DAY = 86_400_000;

/** Sums metric values into a table of its own, the way SLA or analytics keep derived state. */
class SummingConsumer implements DerivedStateConsumer<'metric'> {
  readonly name = 'test-sum';
  readonly kinds = ['metric'] as const;
  readonly batchSize = 7;
  failOnValue: number | null = null;
  reloads = 0;
  async apply(entries: Array<LogEntry<'metric'>>, trx: Tx<IngestLogTables>): Promise<void> {
    for (const entry of entries) {
      const value = entry.payload.value;
      if (value === this.failOnValue) throw new Error('injected failure');
      await trx
        .updateTable('consumer_positions')
        .set((eb) => ({ updated_at: eb('updated_at', '+', value) }))
        .where('consumer', '=', 'test-sum-total')
        .execute();
    }
  }
  async reload(): Promise<void> {
    this.reloads++;
  }
}

for (const { name, make } of BOTH_DATABASES) {
  describe(`ingest log consumers and retention on ${name}`, () => {
    const clock = new ManualClock(Date.UTC(2026, 5, 1));
    const suite = ingestLogSuite(make, clock);
    const { append } = suite;
    const total = async () =>
      Number((await suite.context.get<Db>(DATABASE).selectFrom('consumer_positions').select('updated_at').where('consumer', '=', 'test-sum-total').executeTakeFirst())?.updated_at);

    test('a consumer applies every entry exactly once, in batches, across a failure', async () => {
      const positions = suite.context.get(ConsumerPositionsRepository);
      await positions.ensure('test-sum-total', 0);
      const consumer = new SummingConsumer();
      const runner = suite.context.get(DerivedStateRunner);
      await runner.register(consumer);
      await append([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
      await append([1000], 'log');
      await append([11, 12, 13]);
      consumer.failOnValue = 12;
      await runner.drainAll();
      // The batch holding 12 rolled back; the one before it committed.
      assert.equal(await total(), 1 + 2 + 3 + 4 + 5 + 6 + 7);
      consumer.failOnValue = null;
      await runner.drainAll();
      assert.equal(await total(), (13 * 14) / 2);
      const reloadsBefore = consumer.reloads;
      await runner.drainAll();
      assert.equal(await total(), (13 * 14) / 2);
      assert.equal(consumer.reloads, reloadsBefore, 'no reload while this process owns the position');
      assert.equal(await positions.get('test-sum'), await suite.context.get(IngestLogRepository).highestId());
    });

    test('lagSeconds is the age of the oldest entry of its kinds a consumer has not applied', async () => {
      const runner = suite.context.get(DerivedStateRunner);
      await runner.drainAll();
      assert.equal((await runner.lagSeconds(clock.now())).get('test-sum'), 0);
      await append([500], 'log'); // not a kind it reads: never counts as lag
      clock.advance(3000);
      await append([30]);
      clock.advance(2500);
      await append([31]);
      clock.advance(1500);
      assert.equal((await runner.lagSeconds(clock.now())).get('test-sum'), 4);
      await runner.drainAll();
      assert.equal((await runner.lagSeconds(clock.now())).get('test-sum'), 0);
    });

    test('retention deletes old entries only up to the slowest consumer, in id order', async () => {
      const log = suite.context.get(IngestLogRepository);
      const positions = suite.context.get(ConsumerPositionsRepository);
      const db = suite.context.get<Db>(DATABASE);
      const count = async () => (await storedEntries(db)).length;
      const before = await count();
      clock.advance(8 * DAY);
      await append([20, 21]);
      const newest = await log.highestId();
      // The summing consumer has not seen 20 and 21 yet: even when old, they must stay.
      clock.advance(8 * DAY);
      const deleted = await suite.context.get(RetentionJob).run();
      assert.equal(deleted['ingest_log'], before);
      assert.equal(await count(), 2);
      await suite.context.get(DerivedStateRunner).drainAll();
      assert.equal(await positions.get('test-sum'), newest);
      await suite.context.get(RetentionJob).run();
      assert.equal(await count(), 0);
    });

    test('retention goes on past chunks with missing ids (erased users, rolled-back appends)', async () => {
      const log = suite.context.get(IngestLogRepository);
      const db = suite.context.get<Db>(DATABASE);
      const count = async () => (await storedEntries(db)).length;
      assert.equal(await count(), 0);
      await append(Array.from({ length: 25_000 }, () => 0));
      const first = (await log.highestId()) - 25_000 + 1;
      // A gap in the first chunk of 10,000 ids (the second run of the append is gone): that
      // chunk deletes fewer entries than it spans.
      await db.deleteFrom('ingest_log').where('id', '=', first + 2 * INGEST_LOG_RUN_ENTRIES - 1).execute();
      await suite.context.get(DerivedStateRunner).drainAll();
      clock.advance(8 * DAY);
      const deleted = await suite.context.get(RetentionJob).run();
      assert.equal(deleted['ingest_log'], 25_000 - INGEST_LOG_RUN_ENTRIES);
      assert.equal(await count(), 0);
    });

    test("retention keeps what another replica's consumer still needs, until that position has not moved for a retention period", async () => {
      const log = suite.context.get(IngestLogRepository);
      const positions = suite.context.get(ConsumerPositionsRepository);
      const db = suite.context.get<Db>(DATABASE);
      const count = async () => (await storedEntries(db)).length;
      // Two appends, two rows: retention deletes whole rows, and the position falls between them.
      await append([1]);
      await append([2, 3, 4]);
      const firstOfFour = (await log.highestId()) - 3;
      await suite.context.get(DerivedStateRunner).drainAll();
      // A destination this process does not run (another replica's), behind by three entries.
      await positions.ensure('delivery:elsewhere', clock.now(), firstOfFour);
      clock.advance(8 * DAY);
      // It last moved a day ago: its replica is running it.
      await positions.set(db, 'delivery:elsewhere', firstOfFour, clock.now() - DAY);
      await suite.context.get(RetentionJob).run();
      assert.equal(await count(), 3, 'the entries after its position stay');
      await positions.set(db, 'delivery:elsewhere', firstOfFour, clock.now() - 8 * DAY);
      await suite.context.get(RetentionJob).run();
      assert.equal(await count(), 0, 'a position unmoved for a retention period no longer holds entries back');
      await db.deleteFrom('consumer_positions').where('consumer', '=', 'delivery:elsewhere').execute();
    });

    test('draining a backlog lets the event loop run between batches', async () => {
      const batchesBeforeTimer: number[] = [];
      let batches = 0;
      let timerFired = false;
      const consumer: DerivedStateConsumer = {
        name: 'test-backlog',
        kinds: ['analytics'],
        batchSize: 10,
        apply: async () => {
          batches++;
          if (!timerFired) batchesBeforeTimer.push(batches);
        },
      };
      const runner = suite.context.get(DerivedStateRunner);
      await runner.register(consumer);
      const db = suite.context.get<Db>(DATABASE);
      const entries = Array.from({ length: 100 }, (_, index) => ({ kind: 'analytics' as const, eventTime: clock.now(), userId: null, item: { index } }));
      await db.transaction().execute((trx) => suite.context.get(IngestLogRepository).append(trx, looseEntries(entries), clock.now()));
      setImmediate(() => (timerFired = true));
      await runner.drainAll();
      assert.equal(batches, 10);
      // On SQLite every query answers synchronously: without a yield all ten batches would run before the timer.
      assert.ok(batchesBeforeTimer.length < 10, `the event loop ran only after ${batchesBeforeTimer.length} batches`);
    });

    // Last: it stops the runner.
    test('at shutdown a draining consumer stops after the batch in flight; the rest waits for the next start', async () => {
      let batches = 0;
      const consumer: DerivedStateConsumer = {
        name: 'test-shutdown',
        kinds: ['event'],
        batchSize: 10,
        apply: async () => {
          batches++;
        },
      };
      const runner = suite.context.get(DerivedStateRunner);
      await runner.register(consumer);
      const db = suite.context.get<Db>(DATABASE);
      const entries = Array.from({ length: 100 }, (_, index) => ({ kind: 'event' as const, eventTime: clock.now(), userId: null, item: { index } }));
      await db.transaction().execute((trx) => suite.context.get(IngestLogRepository).append(trx, looseEntries(entries), clock.now()));
      const draining = runner.drainAll();
      await runner.beforeApplicationShutdown();
      await draining;
      assert.equal(batches, 1);
      const position = await suite.context.get(ConsumerPositionsRepository).get('test-shutdown');
      assert.ok(position < (await suite.context.get(IngestLogRepository).highestId()), 'the backlog is left for the next start');
    });
  });
}

