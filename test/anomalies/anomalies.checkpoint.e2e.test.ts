/**
 * The anomaly models' checkpoint runs as a step of the consumer runner (DerivedStateRunner.runAtPosition):
 * it snapshots exactly the series with points not yet in their stored snapshot (and dirty for the
 * minimum age asked), at the consumer's position, and moves the replay position up to it; a second
 * checkpoint finds nothing to write.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { AnomalyDetectionConsumer } from '../../src/anomalies/anomaly-detection.consumer.js';
import { ANOMALY_CONSUMER, ANOMALY_REPLAY_POSITION } from '../../src/anomalies/anomaly-log.positions.js';
import { DATABASE } from '../../src/storage/database.provider.js';
import type { TestDb as Db } from '../support/all-tables.js';
import { startApp, type RunningApp } from '../support/app.js';
import { BOTH_DATABASES, type TestDatabase } from '../support/databases.js';
import { KEYS, ingestMetrics, type Point } from './anomalies-http.js';

const T0 = Date.UTC(2026, 11, 1);

async function position(vigil: RunningApp, consumer: string): Promise<number> {
  const row = await vigil.app.get<Db>(DATABASE).selectFrom('consumer_positions').select('position').where('consumer', '=', consumer).executeTakeFirst();
  return Number(row?.position ?? -1);
}

/** `count` points of each of `series` metrics, one a minute from `from`. */
function points(series: readonly string[], count: number, from: number): Point[] {
  return Array.from({ length: count }, (_, index) => series.map((name) => ({ name, value: 100 + (index % 7), timestamp: T0 + (from + index) * 60_000 }))).flat();
}

for (const { name, make } of BOTH_DATABASES) {
  describe(`anomaly checkpoint on ${name}`, () => {
    let database: TestDatabase;
    let vigil: RunningApp;
    before(async () => {
      database = await make();
      vigil = await startApp({ DATABASE_URL: database.url, ...KEYS, LOG_LEVEL: 'error' });
    });
    after(async () => {
      await vigil?.close();
      await database?.drop();
    });

    test('writes the dirty series once, at the consumer position, and moves the replay position up to it', async () => {
      const consumer = vigil.app.get(AnomalyDetectionConsumer);
      // Fewer points than a batch snapshots on its own (2,000, or a training): every touched series stays dirty.
      await ingestMetrics(vigil, points(['cp.a', 'cp.b', 'cp.c'], 10, 0));
      let consumerPosition = await position(vigil, ANOMALY_CONSUMER);
      assert.ok((await position(vigil, ANOMALY_REPLAY_POSITION)) < consumerPosition, 'the dirty series hold the replay position back');
      assert.equal(await consumer.checkpoint(0), 3);
      assert.equal(await position(vigil, ANOMALY_REPLAY_POSITION), consumerPosition);
      assert.equal(await consumer.checkpoint(0), 0, 'nothing is dirty any more');

      await ingestMetrics(vigil, points(['cp.a', 'cp.b'], 10, 10));
      consumerPosition = await position(vigil, ANOMALY_CONSUMER);
      assert.equal(await consumer.checkpoint(60_000), 0, 'dirty for less than the minimum age');
      assert.equal(await consumer.checkpoint(0), 2);
      assert.equal(await position(vigil, ANOMALY_REPLAY_POSITION), consumerPosition);
      assert.equal(await position(vigil, ANOMALY_CONSUMER), consumerPosition, 'a checkpoint never moves the consumer');
    });
  });
}
