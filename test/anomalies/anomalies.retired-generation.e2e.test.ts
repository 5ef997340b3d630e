/**
 * A batch prepared by a generation of models that is retired before the batch's transaction (as a
 * failed checkpoint or a lost thread does) is not written as prepared: apply() reloads the models from
 * the store and detects the batch again, giving exactly the anomalies and counters of a run where
 * nothing happened.
 */
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { AnomalyDetectionConsumer } from '../../src/anomalies/anomaly-detection.consumer.js';
import { AnomalyModelsLoader } from '../../src/anomalies/anomaly-models.loader.js';
import type { SeriesModels } from '../../src/anomalies/series-models.js';
import type { LogEntry } from '../../src/ingest-log/log-entry.js';
import { startApp, type RunningApp } from '../support/app.js';
import { KEYS, anomalies, ingestMetrics, report } from './anomalies-http.js';
import { pointsOf, syntheticSeries } from './anomalies-series.js';

describe('a prepared batch whose models were retired before its transaction', () => {
  const apps: RunningApp[] = [];
  after(async () => {
    for (const vigil of apps) await vigil.close();
  });

  test('is detected again after a reload: the same anomalies and counters as an undisturbed run', async () => {
    const points = pointsOf(syntheticSeries(), 0, 3200);
    const straight = await startApp({ DATABASE_URL: 'sqlite::memory:', ...KEYS });
    apps.push(straight);
    await ingestMetrics(straight, points, 1000);

    const disturbed = await startApp({ DATABASE_URL: 'sqlite::memory:', ...KEYS });
    apps.push(disturbed);
    // The first drain's reload (the runner's, at start) is done before the spies are set.
    await disturbed.settle();
    const consumer = disturbed.app.get(AnomalyDetectionConsumer);
    const prepare = consumer.prepare.bind(consumer);
    const loader = disturbed.app.get(AnomalyModelsLoader);
    const load = loader.load.bind(loader);
    let loads = 0;
    loader.load = (...args: Parameters<typeof load>) => {
      loads++;
      return load(...args);
    };
    let retired = 0;
    consumer.prepare = async (entries: LogEntry[]) => {
      await prepare(entries);
      retired++;
      (consumer as unknown as { models: SeriesModels }).models.retire();
    };
    await ingestMetrics(disturbed, points, 1000);

    assert.ok(retired >= 2, `${retired} prepared batches retired`);
    assert.equal(loads, retired, 'each batch prepared by a retired generation was detected again after a reload');
    const rows = await anomalies(straight);
    assert.ok(rows.length >= 1);
    const comparable = (list: typeof rows) => list.map((row) => ({ metric: row.metric, timestamp: row.timestamp, value: row.value, severity: row.severity }));
    assert.deepEqual(comparable(await anomalies(disturbed)), comparable(rows));
    const counters = (body: Awaited<ReturnType<typeof report>>) => ({ metrics: body.metrics, total: body.total_points_processed, anomalies: body.anomalies_detected });
    assert.deepEqual(counters(await report(disturbed)), counters(await report(straight)));
  });
});
