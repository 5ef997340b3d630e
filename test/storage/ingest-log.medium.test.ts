import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ManualClock } from '../../src/common/clock.js';
import { UserErasure } from '../../src/common/user-erasure.js';
import { ingestLogSuite } from '../support/ingest-log-context.js';
import { INGEST_LOG_RUN_ENTRIES, IngestLogRepository } from '../../src/ingest-log/ingest-log.repository.js';
import { DATABASE } from '../../src/storage/database.provider.js';
import type { TestDb as Db } from '../support/all-tables.js';
import type { IngestKind } from '../../src/ingest-log/ingest-log.items.js';
import { BOTH_DATABASES } from '../support/databases.js';
import { looseEntries, storedEntries } from '../support/stored-entries.js';

for (const { name, make } of BOTH_DATABASES) {
  describe(`ingest log on ${name}`, () => {
    const clock = new ManualClock(Date.UTC(2026, 5, 1));
    const suite = ingestLogSuite(make, clock);
    const { append } = suite;

    test('lastIdReceivedBefore finds the boundary by binary search', async () => {
      const log = suite.context.get(IngestLogRepository);
      const start = clock.now();
      for (let step = 0; step < 9; step++) {
        await append([step]);
        clock.advance(1000);
      }
      const first = (await log.highestId()) - 8;
      assert.equal(await log.lastIdReceivedBefore(start), first - 1);
      assert.equal(await log.lastIdReceivedBefore(start + 1), first);
      assert.equal(await log.lastIdReceivedBefore(start + 4500), first + 4);
      assert.equal(await log.lastIdReceivedBefore(start + 100_000), first + 8);
    });

    test('erasure removes exactly the entries naming the user', async () => {
      await append([1, 2], 'log', 'user-a');
      await append([3], 'log', 'user-b');
      const db = suite.context.get<Db>(DATABASE);
      const deleted = await db.transaction().execute((trx) => suite.context.get(UserErasure).eraseAll(trx, 'user-a'));
      assert.equal(deleted['ingest_log'], 2);
      const remaining = await db.selectFrom('ingest_log').select('user_id').where('user_id', 'is not', null).execute();
      assert.deepEqual(remaining.map((row) => row.user_id), ['user-b']);
    });

    test('an append stores every entry in order, in one row per run of one kind and one user, whatever its size', async () => {
      const log = suite.context.get(IngestLogRepository);
      const db = suite.context.get<Db>(DATABASE);
      // [entries, a run's length]: kind and user change every `run` entries; 1 makes every entry a row.
      for (const [size, run] of [[1, 1], [63, 1], [64, 1], [65, 1], [129, 1], [200, 7], [2_500, 2_500], [3_000, 1_500]] as const) {
        const before = await log.highestId();
        const rowsBefore = (await db.selectFrom('ingest_log').select('id').execute()).length;
        const entries = Array.from({ length: size }, (_, index) => {
          const runIndex = Math.floor(index / run);
          return {
            kind: runIndex % 3 === 0 ? ('log' as const) : ('metric' as const),
            eventTime: clock.now() - index,
            // Neighbouring runs never share a user: each is a run of its own.
            userId: runIndex % 2 === 0 ? null : `user-${size}-${runIndex}`,
            item: { size, index, text: 'a\nb' },
          };
        });
        await db.transaction().execute((trx) => log.append(trx, looseEntries(entries), clock.now()));
        assert.deepEqual(
          (await storedEntries(db)).filter((entry) => entry.id > before).map((entry) => [entry.id, entry.kind, entry.receivedAt, entry.eventTime, entry.userId, entry.json]),
          entries.map((entry, index) => [before + index + 1, entry.kind, clock.now(), entry.eventTime, entry.userId, JSON.stringify(entry.item)]),
          `batch of ${size}`,
        );
        const rows = (await db.selectFrom('ingest_log').select('id').execute()).length - rowsBefore;
        // Runs of `run` entries, each split into rows of at most INGEST_LOG_RUN_ENTRIES.
        const fullRuns = Math.floor(size / run);
        const expectedRows = fullRuns * Math.ceil(run / INGEST_LOG_RUN_ENTRIES) + Math.ceil((size % run) / INGEST_LOG_RUN_ENTRIES);
        assert.equal(rows, expectedRows, `rows for a batch of ${size}`);
      }
    });

    test('store reads of one-entry rows (one user per item) return every entry in range, at any limit', async () => {
      const log = suite.context.get(IngestLogRepository);
      const db = suite.context.get<Db>(DATABASE);
      const before = await log.highestId();
      const entries = Array.from({ length: 3_000 }, (_, index) => ({ kind: 'log' as const, eventTime: clock.now(), userId: `one-entry-user-${index}`, item: { index } }));
      await db.transaction().execute((trx) => log.append(trx, looseEntries(entries), clock.now()));
      for (const [after, limit] of [[before, 2_500], [before + 10, 5_000], [before + 2_990, 100]] as const) {
        const read = await new IngestLogRepository(db).readAfter(db, after, before + 3_000, ['log'], limit);
        const expected = entries.map((_, index) => before + index + 1).filter((id) => id > after).slice(0, limit);
        assert.deepEqual(read.map((entry) => entry.id), expected, `after ${after - before}, at most ${limit}`);
      }
      assert.deepEqual(await log.readAfter(db, before, before + 3_000, ['log'], 0), []);
      assert.deepEqual(await log.entrySizesAfter(before, before + 3_000, ['log'], 0), []);
    });

    test('counts and sizes of entries in a range agree with the entries, also where a range cuts a run', async () => {
      const log = suite.context.get(IngestLogRepository);
      const db = suite.context.get<Db>(DATABASE);
      const before = await log.highestId();
      const entries = Array.from({ length: 2_300 }, (_, index) => ({
        kind: index < 2_100 ? ('request' as const) : ('event' as const),
        eventTime: clock.now(),
        userId: null,
        // Some items hold characters outside the BMP: bytes count UTF-16 units, as JavaScript does.
        item: { index, padding: index % 7 === 0 ? '😀'.repeat(index % 5) : 'x'.repeat(index % 13) },
      }));
      await db.transaction().execute((trx) => log.append(trx, looseEntries(entries), clock.now()));
      const expected = (after: number, upTo: number, kinds: readonly IngestKind[]) =>
        entries
          .map((entry, index) => ({ id: before + index + 1, kind: entry.kind, bytes: JSON.stringify(entry.item).length }))
          .filter((entry) => entry.id > after && entry.id <= upTo && kinds.includes(entry.kind));
      for (const [after, upTo, kinds] of [
        [before, before + 2_300, ['request']],
        [before + 5, before + 17, ['request']],
        [before + 999, before + 1_001, ['request', 'event']],
        [before + 1_500, before + 2_250, ['request', 'event']],
        [before + 2_000, before + 2_300, ['event']],
        [before + 10, before + 2_200, ['analytics']],
      ] as Array<[number, number, IngestKind[]]>) {
        const inRange = expected(after, upTo, kinds);
        const label = `${after - before}..${upTo - before} ${kinds.join(',')}`;
        assert.deepEqual(await log.countBetween(after, upTo, kinds), { items: inRange.length, bytes: inRange.reduce((sum, entry) => sum + entry.bytes, 0) }, label);
        assert.deepEqual(await log.entrySizesAfter(after, upTo, kinds, 50), inRange.slice(0, 50).map(({ id, bytes }) => ({ id, bytes })), label);
        // A repository that holds nothing in memory reads the rows, in pages sized by the limit.
        for (const limit of [1, 999, 1_001, 5_000]) {
          const read = await new IngestLogRepository(db).readAfter(db, after, upTo, kinds, limit);
          assert.deepEqual(read.map((entry) => [entry.id, entry.bytes, (entry.payload as unknown as { index: number }).index]), inRange.slice(0, limit).map((entry) => [entry.id, entry.bytes, entry.id - before - 1]), `${label}, at most ${limit}`);
        }
      }
    });

    test('reads of recently committed entries match the store, across uncommitted-to-memory appends and erasure', async () => {
      const log = suite.context.get(IngestLogRepository);
      const db = suite.context.get<Db>(DATABASE);
      const fromStore = async (after: number, upTo: number, kinds: readonly ('metric' | 'log')[], limit: number) =>
        (await storedEntries(db, kinds))
          .filter((entry) => entry.id > after && entry.id <= upTo)
          .slice(0, limit)
          .map((entry) => ({ id: entry.id, kind: entry.kind, receivedAt: entry.receivedAt, eventTime: entry.eventTime, payload: JSON.parse(entry.json) as unknown, bytes: entry.json.length }));
      const start = await log.highestId();
      // As the group committer does: append, commit, then tell the repository.
      const commit = async (count: number, userId: string | null, tell = true) => {
        const entries = Array.from({ length: count }, (_, index) => ({
          kind: index % 2 === 0 ? ('metric' as const) : ('log' as const),
          eventTime: clock.now() + index,
          userId,
          item: { name: 'm', value: index, userId },
        }));
        const appended = await db.transaction().execute((trx) => log.append(trx, looseEntries(entries), clock.now()));
        if (tell) log.committed(appended);
      };
      await commit(70, null);
      await commit(5, null, false); // an internal event's append: memory never hears of it
      await commit(90, 'user-r');
      await commit(30, null);
      const end = await log.highestId();
      for (const [after, upTo, kinds, limit] of [
        [start, end, ['metric'], 1000],
        [start + 60, end, ['metric', 'log'], 40],
        [start + 75, end, ['log'], 1000],
        [start + 100, start + 150, ['metric', 'log'], 1000],
        [end, end, ['metric'], 10],
      ] as Array<[number, number, Array<'metric' | 'log'>, number]>) {
        assert.deepEqual(await log.readAfter(db, after, upTo, kinds, limit), await fromStore(after, upTo, kinds, limit), `${after - start}..${upTo - start}`);
      }
      const beforeErasure = await log.readAfter(db, start + 100, start + 150, ['metric', 'log'], 1000);
      await db.transaction().execute((trx) => suite.context.get(UserErasure).eraseAll(trx, 'user-r'));
      const afterErasure = await log.readAfter(db, start + 75, end, ['metric', 'log'], 1000);
      assert.equal(afterErasure.length, 30);
      assert.deepEqual(afterErasure, await fromStore(start + 75, end, ['metric', 'log'], 1000));
      // Payloads may be shared between consumers, so none can change one: from memory or from the store.
      // (On SQLite the first read is served from memory; erasure cleared it, so the second comes from the store.)
      for (const entry of [...beforeErasure, ...afterErasure]) {
        assert.ok(Object.isFrozen(entry.payload), `entry ${entry.id - start} is frozen`);
      }
    });

    test('two repositories appending to one store (replicas) each read exactly what the store holds, across rollbacks and an erasure by the other', async () => {
      const db = suite.context.get<Db>(DATABASE);
      const replicaA = new IngestLogRepository(db);
      const replicaB = new IngestLogRepository(db);
      const start = await replicaA.highestId();
      const commit = async (log: IngestLogRepository, count: number, userId: string | null, rollBack = false) => {
        const entries = Array.from({ length: count }, (_, index) => ({
          kind: index % 3 === 0 ? ('log' as const) : ('metric' as const),
          eventTime: clock.now() + index,
          userId,
          item: { name: 'm', value: index, userId },
        }));
        let appended: Awaited<ReturnType<IngestLogRepository['append']>>;
        try {
          await db.transaction().execute(async (trx) => {
            appended = await log.append(trx, looseEntries(entries), clock.now());
            if (rollBack) throw new Error('roll back');
          });
          log.committed(appended);
        } catch (error) {
          if (!rollBack) throw error;
        }
      };
      await commit(replicaA, 40, null);
      await commit(replicaA, 25, null);
      await commit(replicaB, 30, null); // B's ids sit between A's
      await commit(replicaA, 20, null, true); // rolled back: its ids stay unused
      await commit(replicaA, 35, null);
      const beforeUser = await replicaA.highestId();
      await commit(replicaA, 12, 'user-replicas');
      await commit(replicaA, 18, null);
      const fromStore = async (after: number, upTo: number, kinds: readonly ('metric' | 'log')[]) =>
        (await storedEntries(db, kinds)).filter((entry) => entry.id > after && entry.id <= upTo).map((entry) => [entry.id, entry.kind, JSON.parse(entry.json)]);
      const read = async (log: IngestLogRepository, after: number, upTo: number, kinds: ReadonlyArray<'metric' | 'log'>) =>
        (await log.readAfter(db, after, upTo, kinds, 100_000)).map((entry) => [entry.id, entry.kind, entry.payload]);
      let end = await replicaA.highestId();
      // Every id reserved: 40 + 25 + 30 + 35 + 12 + 18, and on Postgres the 20 rolled back
      // (a sequence is not transactional; SQLite's rolls back with the transaction).
      assert.equal(end - start, name === 'postgres' ? 180 : 160);
      assert.equal((await fromStore(start, end, ['metric', 'log'])).length, 160);
      for (const [after, upTo] of [[start, end], [start + 60, end], [start + 95, start + 140], [start + 115, end], [beforeUser, end], [beforeUser + 12, end]] as Array<[number, number]>) {
        for (const kinds of [['metric'], ['log'], ['metric', 'log']] as Array<Array<'metric' | 'log'>>) {
          for (const log of [replicaA, replicaB]) assert.deepEqual(await read(log, after, upTo, kinds), await fromStore(after, upTo, kinds), `${after - start}..${upTo - start} ${kinds.join(',')}`);
        }
      }
      // B erases the user A appended: A must not serve those entries from memory afterwards. (Only
      // Postgres has replicas; on SQLite one process owns the file and its one repository erases.)
      if (name !== 'postgres') return;
      await db.transaction().execute((trx) => replicaB.deleteUser(trx, 'user-replicas'));
      end = await replicaA.highestId();
      assert.equal((await fromStore(start, end, ['metric', 'log'])).length, 148);
      assert.deepEqual(await read(replicaA, beforeUser - 5, end, ['metric', 'log']), await fromStore(beforeUser - 5, end, ['metric', 'log']));
      assert.equal((await read(replicaA, beforeUser - 5, end, ['metric', 'log'])).length, 5 + 18);
    });

    test('a read of kinds absent from its range answers as the store, also for entries appended before the repository started', async () => {
      const db = suite.context.get<Db>(DATABASE);
      // A new repository over the same store: as after a restart, it has appended nothing yet.
      const log = new IngestLogRepository(db);
      const fromStore = async (after: number, upTo: number, kinds: ReadonlyArray<'metric' | 'log'>) =>
        (await storedEntries(db, kinds)).filter((entry) => entry.id > after && entry.id <= upTo).map((entry) => entry.id);
      const ids = async (after: number, upTo: number, kinds: ReadonlyArray<'metric' | 'log'>) => (await log.readAfter(db, after, upTo, kinds, 100_000)).map((entry) => entry.id);
      const appendWith = async (count: number, kind: 'metric' | 'log', tell: boolean) => {
        const entries = Array.from({ length: count }, (_, index) => ({ kind, eventTime: clock.now(), userId: null, item: { name: 'm', value: index } }));
        const appended = await db.transaction().execute((trx) => log.append(trx, looseEntries(entries), clock.now()));
        if (tell) log.committed(appended);
      };
      await append([1, 2], 'log'); // through the context's repository: this one never hears of it
      const start = await log.highestId();
      const earlierLogs = await fromStore(0, start, ['log']);
      assert.ok(earlierLogs.length >= 2);
      assert.deepEqual(await ids(0, start, ['log']), earlierLogs);
      await appendWith(300, 'metric', true);
      const afterMetrics = await log.highestId();
      assert.deepEqual(await ids(start, afterMetrics, ['log']), []);
      assert.deepEqual(await ids(start - 1, afterMetrics, ['log']), await fromStore(start - 1, afterMetrics, ['log']));
      assert.equal((await ids(start - 1, afterMetrics, ['log'])).length, 1);
      await appendWith(3, 'log', false); // like an internal event: appended, never handed to memory
      await appendWith(50, 'metric', true);
      const end = await log.highestId();
      assert.deepEqual(await ids(afterMetrics, end, ['log']), [afterMetrics + 1, afterMetrics + 2, afterMetrics + 3]);
      assert.deepEqual(await ids(afterMetrics + 3, end, ['log']), []);
      assert.deepEqual(await ids(start, end, ['metric']), await fromStore(start, end, ['metric']));
    });

  });
}

