import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { DDSketch } from '@datadog/sketches-js';
import { Migrator, sql } from 'kysely';
import { ManualClock } from '../../src/common/clock.js';
import { loadConfig } from '../../src/config/app.config.js';
import { LatencySketch } from '../../src/sla/latency-sketch.js';
import { RollupDeltas } from '../../src/sla/rollup-delta.js';
import { SlaRollupsRepository } from '../../src/sla/sla-rollups.repository.js';
import type { SlaTargetsService } from '../../src/sla/sla-targets.service.js';
import { SlaService } from '../../src/sla/sla.service.js';
import type { TestDb as Db } from '../support/all-tables.js';
import { isPostgres, openDatabase } from '../../src/storage/database.provider.js';
import { APP_MIGRATIONS } from '../../src/app.migrations.js';
import { migrateToLatest } from '../../src/storage/migrator.js';
import { BOTH_DATABASES } from '../support/databases.js';

const NOW = Date.UTC(2026, 0, 10, 12, 0, 0);
const MINUTE = 60_000;
const AT = NOW - 30 * MINUTE;
const MAPPING = new DDSketch({ relativeAccuracy: 0.01 }).mapping;

async function migrateTo(db: Db, name: string): Promise<void> {
  const schema = isPostgres(db) ? (await sql<{ schema: string }>`select current_schema() as schema`.execute(db)).rows[0]!.schema : undefined;
  const migrator = new Migrator({ db, provider: { getMigrations: async () => ({ ...APP_MIGRATIONS }) }, ...(schema ? { migrationTableSchema: schema } : {}) });
  const { error } = await migrator.migrateTo(name);
  if (error) throw error;
}

/** Bins as rows before exact durations held them: (int16 key, float64 count) pairs, ascending key, written by hand. */
function oldSketch(values: number[]): Buffer {
  const counts = new Map<number, number>();
  for (const value of values) counts.set(MAPPING.key(value), (counts.get(MAPPING.key(value)) ?? 0) + 1);
  const keys = [...counts.keys()].sort((left, right) => left - right);
  const buffer = Buffer.alloc(keys.length * 10);
  keys.forEach((key, index) => {
    buffer.writeInt16LE(key, index * 10);
    buffer.writeDoubleLE(counts.get(key)!, index * 10 + 2);
  });
  return buffer;
}

/** What the sketch answers for these values (6 significant digits, as the status rounds estimates). */
function estimated(values: number[], quantile: number): number {
  const sketch = new DDSketch({ relativeAccuracy: 0.01 });
  for (const value of values) sketch.accept(value);
  return Number(sketch.getValueAtQuantile(quantile).toPrecision(6));
}

function deltas(service: string, values: number[]): RollupDeltas {
  const result = new RollupDeltas();
  values.forEach((value, index) => result.add(service, AT + index, value, false));
  return result;
}

for (const { name, make } of BOTH_DATABASES) {
  describe(`SLA rollups upgrade on ${name}`, () => {
    const cleanups: Array<() => Promise<void>> = [];
    after(async () => {
      for (const cleanup of cleanups.reverse()) await cleanup();
    });

    test('rows from before exact durations read as estimates; new rows are exact; a list that lost count with its row is ignored', async () => {
      const database = await make();
      const db: Db = openDatabase(loadConfig({ DATABASE_URL: database.url }).database);
      cleanups.push(() => database.drop(), () => db.destroy());
      await migrateTo(db, '0006-ingest-log-runs');
      const legacy = [10.5, 200.25, 33.3];
      for (const [resolution, size] of [['minute', MINUTE], ['hour', 3_600_000], ['day', 86_400_000]] as const) {
        await sql`insert into sla_rollups (resolution, bucket_start, service, total, failed, first_event_at, updated_at, revision, sketch)
          values (${resolution}, ${Math.floor(AT / size) * size}, ${'legacy'}, ${3}, ${1}, ${AT}, ${AT}, ${7}, ${oldSketch(legacy)})`.execute(db);
      }
      await migrateToLatest(db, APP_MIGRATIONS);

      const repository = new SlaRollupsRepository(db);
      const targets = { all: async () => new Map() } as unknown as SlaTargetsService;
      const sla = new SlaService(repository, targets, new ManualClock(NOW));
      const latency = async (service: string, window: '24h' | '7d') => {
        const status = (await sla.status(service, window))!;
        const { p95_ms: p95, p99_ms: p99, relative_error_bound: bound } = status.metrics.latency;
        return { total: status.metrics.requests.total, failed: status.metrics.requests.failed, p95, p99, bound };
      };
      const exactColumn = async (service: string) =>
        (await db.selectFrom('sla_rollups').select(['resolution', 'exact_ms']).where('service', '=', service).orderBy('resolution').execute()).map((row) => [row.resolution, row.exact_ms?.length ?? null]);

      // 24h reads minute and hour rows, 7d the day row: every resolution of the old format.
      for (const window of ['24h', '7d'] as const) {
        assert.deepEqual(await latency('legacy', window), { total: 3, failed: 1, p95: estimated(legacy, 0.95), p99: estimated(legacy, 0.99), bound: 0.01 }, window);
      }
      // New requests in the same buckets: the rows stay estimates (their old requests' durations are unknown).
      await db.transaction().execute((trx) => repository.applyDeltas(trx, deltas('legacy', [44.4, 55.5]), NOW));
      assert.deepEqual(await exactColumn('legacy'), [['day', null], ['hour', null], ['minute', null]]);
      const all = [...legacy, 44.4, 55.5];
      for (const window of ['24h', '7d'] as const) {
        assert.deepEqual(await latency('legacy', window), { total: 5, failed: 1, p95: estimated(all, 0.95), p99: estimated(all, 0.99), bound: 0.01 }, window);
      }

      // Written after the upgrade: exact, in two writes merged into the same rows.
      await db.transaction().execute((trx) => repository.applyDeltas(trx, deltas('fresh', [123.4, 7.25]), NOW));
      await db.transaction().execute((trx) => repository.applyDeltas(trx, deltas('fresh', [61.5]), NOW));
      assert.deepEqual(await exactColumn('fresh'), [['day', 24], ['hour', 24], ['minute', 24]]);
      for (const window of ['24h', '7d'] as const) {
        assert.deepEqual(await latency('fresh', window), { total: 3, failed: 0, p95: 61.5, p99: 61.5, bound: 0 }, window);
      }

      // A replica of the earlier version adds a request: bins and total only, the list is left as it was.
      for (const row of await db.selectFrom('sla_rollups').selectAll().where('service', '=', 'fresh').execute()) {
        const sketch = LatencySketch.decode(row.sketch);
        sketch.accept(900);
        await db
          .updateTable('sla_rollups')
          .set({ total: Number(row.total) + 1, sketch: sketch.encode(), revision: Number(row.revision) + 1 })
          .where('resolution', '=', row.resolution)
          .where('service', '=', 'fresh')
          .execute();
      }
      const fresh = [123.4, 7.25, 61.5, 900];
      for (const window of ['24h', '7d'] as const) {
        assert.deepEqual(await latency('fresh', window), { total: 4, failed: 0, p95: estimated(fresh, 0.95), p99: estimated(fresh, 0.99), bound: 0.01 }, window);
      }
      // The next write of this version drops the list that no longer matches.
      await db.transaction().execute((trx) => repository.applyDeltas(trx, deltas('fresh', [5]), NOW));
      assert.deepEqual(await exactColumn('fresh'), [['day', null], ['hour', null], ['minute', null]]);
      assert.deepEqual(await latency('fresh', '24h'), { total: 5, failed: 0, p95: estimated([...fresh, 5], 0.95), p99: estimated([...fresh, 5], 0.99), bound: 0.01 });
    });
  });
}
