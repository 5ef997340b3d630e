import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { sql } from 'kysely';
import { ManualClock } from '../../src/common/clock.js';
import { loadConfig } from '../../src/config/app.config.js';
import { migrateToLatest } from '../../src/storage/migrator.js';
import { openDatabase } from '../../src/storage/database.provider.js';
import { APP_MIGRATIONS } from '../../src/app.migrations.js';
import { APPLY_LEASE_TTL_MS, ApplyLease } from '../../src/ingest-log/apply.lease.js';
import { ApplyMode, APPLY_POLL_INTERVAL_MS, type DerivedStateConsumer } from '../../src/ingest-log/apply.mode.js';
import { ConsumerPositionsRepository } from '../../src/ingest-log/consumer-positions.repository.js';
import { ConsumerRuntime, realTimeSleeper } from '../../src/ingest-log/consumer-runtime.js';
import { IngestLogRepository } from '../../src/ingest-log/ingest-log.repository.js';
import { IngestLogSignal } from '../../src/ingest-log/log-consumers.js';
import type { LogEntry } from '../../src/ingest-log/log-entry.js';
import { queueLease } from '../../src/delivery/queue/queue.lease.js';
import type { TestDb as Db } from '../support/all-tables.js';
import type { Db as RunnerDb } from '../../src/storage/database.js';
import { POSTGRES_AVAILABLE, postgresDatabase, type TestDatabase } from '../support/databases.js';
import { looseEntries, storedEntries } from '../support/stored-entries.js';

/**
 * Postgres, several replicas on one store: the order in which appends become visible (a consumer
 * reads by id up to the highest id it sees, so a lower id committing after a higher one would be
 * skipped for good), the group commit's own append, and the lease that keeps an apply consumer on
 * one replica. Each replica is a repository or a mode of its own over the same store.
 */

const sleep = (milliseconds: number) => new Promise((resolve) => setTimeout(resolve, milliseconds));

const metrics = (values: readonly number[], eventTime: number) => looseEntries(values.map((value) => ({ kind: 'metric', eventTime, userId: null, item: { name: 'm', value } })));

/** Sums the values it applies (in memory, from the entries of each committed batch) and counts its reloads. */
class SummingConsumer implements DerivedStateConsumer<'metric'> {
  readonly kinds = ['metric'] as const;
  readonly batchSize = 4;
  applied: number[] = [];
  reloads = 0;
  constructor(readonly name: string) {}
  async apply(entries: Array<LogEntry<'metric'>>): Promise<void> {
    for (const entry of entries) this.applied.push((entry.payload as unknown as { value: number }).value);
  }
  async reload(): Promise<void> {
    this.reloads++;
  }
}

describe('ingest log replicas on Postgres', { skip: !POSTGRES_AVAILABLE && 'no Postgres' }, () => {
  let database: TestDatabase;
  let db: Db;
  /** The same store as the runner sees it: a database with no tables of its own (Db in storage/database.ts). */
  let runnerDb: RunnerDb;
  const clock = new ManualClock(Date.UTC(2026, 5, 1));
  before(async () => {
    database = await postgresDatabase();
    runnerDb = openDatabase(loadConfig({ DATABASE_URL: database.url }).database);
    db = runnerDb as Db;
    await migrateToLatest(db, APP_MIGRATIONS);
  });
  after(async () => {
    await db.destroy();
    await database.drop();
  });

  test('appendCommitted stores consecutive ids in one commit, as append does', async () => {
    const log = new IngestLogRepository(db);
    const start = await log.highestId();
    const entries = looseEntries([
      ...Array.from({ length: 5 }, (_, index) => ({ kind: 'metric' as const, eventTime: clock.now() + index, userId: null, item: { name: 'm', value: index } })),
      { kind: 'analytics', eventTime: clock.now(), userId: 'user-1', item: { type: 'a' } },
      { kind: 'analytics', eventTime: clock.now(), userId: 'user-2', item: { type: 'b' } },
      { kind: 'log', eventTime: clock.now(), userId: null, item: { message: 'x' } },
    ]);
    const appended = await log.appendCommitted(entries, clock.now());
    assert.equal(appended?.firstId, start + 1);
    const stored = (await storedEntries(db)).filter((entry) => entry.id > start);
    assert.deepEqual(
      stored.map((entry) => [entry.id, entry.kind, entry.userId, JSON.parse(entry.json)]),
      entries.map((entry, index) => [start + 1 + index, entry.kind, entry.userId, entry.item]),
    );
    // Four rows: the run of five metrics, one per user, the log.
    assert.equal(Number((await db.selectFrom('ingest_log').select((eb) => eb.fn.countAll().as('rows')).where('id', '>', start).executeTakeFirst())?.rows), 4);
  });

  test('an append that reserved lower ids and commits later is never skipped: appends after it wait, so nothing above its ids is visible before it', async () => {
    const slowReplica = new IngestLogRepository(db);
    const fastReplica = new IngestLogRepository(db);
    const start = await slowReplica.highestId();
    // The slow replica reserves ids start+1..start+5 and holds its transaction open.
    let appendedSlow!: () => void;
    const slowAppended = new Promise<void>((resolve) => (appendedSlow = resolve));
    let commitSlow!: () => void;
    const slowMayCommit = new Promise<void>((resolve) => (commitSlow = resolve));
    const slow = db.transaction().execute(async (trx) => {
      await slowReplica.append(trx, metrics([1, 2, 3, 4, 5], clock.now()), clock.now());
      appendedSlow();
      await slowMayCommit;
    });
    let fastDone = false;
    let fast!: Promise<unknown>;
    const fastWaitsForSlow = async () => {
      fast = fastReplica.appendCommitted(metrics([6, 7, 8], clock.now()), clock.now()).then((appended) => {
        fastDone = true;
        return appended;
      });
      // The fast append waits for the append lock (seen from the server, not guessed from a delay).
      for (let waited = 0; ; waited += 20) {
        const waiting = await sql<{ waiting: number }>`
          select count(*)::int as waiting from pg_stat_activity
          where datname = current_database() and wait_event_type = 'Lock' and wait_event = 'advisory' and query like '%pg_advisory_xact_lock%'`.execute(db);
        assert.equal(fastDone, false, 'the second append committed while the first held lower ids open');
        if (waiting.rows[0]!.waiting > 0) break;
        assert.ok(waited < 10_000, 'the second append never waited for the lock');
        await sleep(20);
      }
      // A consumer sees nothing past its position yet: it cannot move past the slow append's ids.
      assert.equal(await fastReplica.highestId(), start);
      assert.deepEqual(await fastReplica.readAfter(db, start, await fastReplica.highestId(), ['metric'], 100), []);
    };
    await slowAppended;
    // Whatever fails below, the slow transaction ends (an open one would hold up the store's teardown).
    try {
      await fastWaitsForSlow();
    } finally {
      commitSlow();
    }
    await slow;
    const appended = (await fast) as Awaited<ReturnType<IngestLogRepository['appendCommitted']>>;
    assert.equal(appended?.firstId, start + 6);
    const highest = await fastReplica.highestId();
    assert.equal(highest, start + 8);
    const read = await new IngestLogRepository(db).readAfter(db, start, highest, ['metric'], 100);
    assert.deepEqual(
      read.map((entry) => [entry.id, (entry.payload as unknown as { value: number }).value]),
      [1, 2, 3, 4, 5, 6, 7, 8].map((value) => [start + value, value]),
    );
  });

  test('one replica at a time runs an apply consumer (its lease); another takes over on release or expiry, and every entry is applied once', async () => {
    const positions = new ConsumerPositionsRepository(db);
    const log = new IngestLogRepository(db);
    const name = 'test-lease-sum';
    await positions.ensure(name, clock.now(), await log.highestId());
    const logger = { log: () => undefined, error: () => undefined };
    const replica = (owner: string) => {
      const consumer = new SummingConsumer(name);
      const runtime = new ConsumerRuntime(name, { kinds: consumer.kinds, wakeOn: 'own kinds', lingerMs: 0, sleeper: realTimeSleeper, signal: new IngestLogSignal() });
      const lease = new ApplyLease(name, owner, positions, clock);
      return { consumer, mode: new ApplyMode(consumer, runtime, { db: runnerDb, positions, log, clock, logger, lease }) };
    };
    const a = replica('replica-a');
    const b = replica('replica-b');
    const append = (values: number[]) => log.appendCommitted(metrics(values, clock.now()), clock.now());
    const notHolding = { waitMs: APPLY_POLL_INTERVAL_MS, wakeable: false };

    await append([1, 2, 3, 4, 5, 6]);
    assert.equal(await a.mode.step(), APPLY_POLL_INTERVAL_MS);
    assert.deepEqual(a.consumer.applied, [1, 2, 3, 4, 5, 6]);
    // B does not hold the lease: it waits its poll, not woken by commits, and applies nothing.
    await append([7, 8]);
    assert.deepEqual(await b.mode.step(), notHolding);
    assert.deepEqual(b.consumer.applied, []);
    assert.equal(b.consumer.reloads, 0);
    clock.advance(APPLY_LEASE_TTL_MS / 2); // A renews on its next step
    assert.equal(await a.mode.step(), APPLY_POLL_INTERVAL_MS);
    assert.deepEqual(a.consumer.applied, [1, 2, 3, 4, 5, 6, 7, 8]);
    clock.advance(APPLY_LEASE_TTL_MS * 0.9); // A's renewed lease still holds
    assert.deepEqual(await b.mode.step(), notHolding);

    // A shuts down and lets the lease go: B takes the consumer on its next step, reloading once.
    await a.mode.release();
    await append([9, 10]);
    assert.equal(await b.mode.step(), APPLY_POLL_INTERVAL_MS);
    assert.deepEqual(b.consumer.applied, [9, 10]);
    assert.equal(b.consumer.reloads, 1);
    await append([11]);
    assert.deepEqual(await a.mode.step(), notHolding);
    assert.equal(await b.mode.step(), APPLY_POLL_INTERVAL_MS);
    assert.deepEqual(b.consumer.applied, [9, 10, 11]);
    assert.equal(b.consumer.reloads, 1, 'no reload while B keeps the consumer');

    // B stops renewing (killed): once its lease has expired, A takes over from B's position.
    await append([12, 13]);
    clock.advance(APPLY_LEASE_TTL_MS + 1);
    assert.equal(await a.mode.step(), APPLY_POLL_INTERVAL_MS);
    assert.deepEqual(a.consumer.applied, [1, 2, 3, 4, 5, 6, 7, 8, 12, 13]);
    assert.equal(a.consumer.reloads, 2, 'A reloaded when it first ran the consumer, and again after B moved it');
    assert.deepEqual(await b.mode.step(), notHolding);
    // Every entry once, across the replicas.
    assert.deepEqual([...a.consumer.applied, ...b.consumer.applied].sort((x, y) => x - y), Array.from({ length: 13 }, (_, index) => index + 1));
    assert.equal(await positions.get(name), await log.highestId());
  });

  test('the holder renews its lease while it drains a backlog longer than the lease', async () => {
    const positions = new ConsumerPositionsRepository(db);
    const log = new IngestLogRepository(db);
    const name = 'test-lease-backlog';
    await positions.ensure(name, clock.now(), await log.highestId());
    const logger = { log: () => undefined, error: () => undefined };
    const replica = (owner: string, consumer: SummingConsumer) => {
      const runtime = new ConsumerRuntime(name, { kinds: consumer.kinds, wakeOn: 'own kinds', lingerMs: 0, sleeper: realTimeSleeper, signal: new IngestLogSignal() });
      return new ApplyMode(consumer, runtime, { db: runnerDb, positions, log, clock, logger, lease: new ApplyLease(name, owner, positions, clock) });
    };
    // Each batch (4 entries) takes half a lease of the clock's time: 20 entries, two and a half leases.
    const slow = new (class extends SummingConsumer {
      override async apply(entries: Array<LogEntry<'metric'>>): Promise<void> {
        await super.apply(entries);
        clock.advance(APPLY_LEASE_TTL_MS / 2);
      }
    })(name);
    const a = replica('replica-a', slow);
    const b = replica('replica-b', new SummingConsumer(name));
    await log.appendCommitted(metrics(Array.from({ length: 20 }, (_, index) => index + 1), clock.now()), clock.now());
    const started = clock.now();
    assert.equal(await a.step(), APPLY_POLL_INTERVAL_MS);
    assert.equal(clock.now() - started, APPLY_LEASE_TTL_MS * 2.5);
    assert.deepEqual(slow.applied, Array.from({ length: 20 }, (_, index) => index + 1));
    assert.deepEqual(await b.step(), { waitMs: APPLY_POLL_INTERVAL_MS, wakeable: false }, 'A renewed its lease between batches');
  });

  test("a destination queue's lease is its consumer's row of consumer_leases: one owner at a time, renewed inside a commit, taken after expiry or release", async () => {
    const positions = new ConsumerPositionsRepository(db);
    const ttlMs = 8_000;
    const a = queueLease('fake-vendor', ttlMs, { positions, clock, owner: 'replica-a' });
    const b = queueLease('fake-vendor', ttlMs, { positions, clock, owner: 'replica-b' });
    const otherQueue = queueLease('other-vendor', ttlMs, { positions, clock, owner: 'replica-b' });
    const holder = async (consumer: string) =>
      (await db.selectFrom('consumer_leases').select(['owner', 'expires_at']).where('consumer', '=', consumer).executeTakeFirst()) ?? null;

    assert.equal(await a.acquire(), true);
    assert.equal(await b.acquire(), false, 'held by A');
    assert.equal(await otherQueue.acquire(), true, "another destination's queue has a lease of its own");
    assert.deepEqual(await holder('delivery:fake-vendor'), { owner: 'replica-a', expires_at: clock.now() + ttlMs });

    // A renews inside its commit; a rolled-back commit leaves the earlier expiry.
    clock.advance(ttlMs - 1);
    const renewedAt = clock.now();
    await assert.rejects(
      runnerDb.transaction().execute(async (trx) => {
        assert.equal(await a.acquire(trx), true);
        throw new Error('rolled back');
      }),
      /rolled back/,
    );
    assert.equal(Number((await holder('delivery:fake-vendor'))?.expires_at), renewedAt - (ttlMs - 1) + ttlMs);
    await runnerDb.transaction().execute(async (trx) => assert.equal(await a.acquire(trx), true));
    assert.equal(Number((await holder('delivery:fake-vendor'))?.expires_at), renewedAt + ttlMs);

    clock.advance(ttlMs);
    assert.equal(await b.acquire(), false, 'not yet expired: the lease runs until its expiry, inclusive');
    clock.advance(1);
    assert.equal(await b.acquire(), true, "A stopped renewing: B takes the queue");
    assert.equal(await a.acquire(), false);
    await b.release();
    assert.equal(await holder('delivery:fake-vendor'), null);
    assert.equal(await a.acquire(), true, 'a released lease is taken at once');
  });
});
