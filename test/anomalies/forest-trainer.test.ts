/**
 * Isolation forests fitted on the ForestTrainer's worker thread: the same model as fitting in
 * place, and a failed training through the real app stays due and is retried.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { AnomalyDetectionConsumer } from '../../src/anomalies/anomaly-detection.consumer.js';
import { parseSeriesCsv } from '../../src/anomalies/detection/backtest.js';
import { SeriesDetector, type PointVerdict } from '../../src/anomalies/detection/series-detector.js';
import { ForestTrainer } from '../../src/anomalies/forest-trainer.js';
import { startApp, type RunningApp } from '../support/app.js';
import { KEYS, ingestMetrics, report } from './anomalies-http.js';
import { STEP_MS, T0 } from './synthetic.js';

const medium = { sensitivity: 'medium' as const };

describe('ForestTrainer', () => {
  const trainer = new ForestTrainer();
  after(() => trainer.onApplicationShutdown());

  test('a model fitted on the worker gives the detector exactly the verdicts and state of train()', async () => {
    const data = parseSeriesCsv(fs.readFileSync(path.join(process.cwd(), 'test/fixtures/nab/data/realKnownCause/rogue_agent_key_updown.csv'), 'utf8'));
    const inPlace = SeriesDetector.create(medium);
    const onWorker = SeriesDetector.create(medium);
    const inPlaceVerdicts: PointVerdict[] = [];
    const onWorkerVerdicts: PointVerdict[] = [];
    let trainings = 0;
    for (let index = 0; index < data.values.length; index++) {
      if (inPlace.isTrainingDue()) {
        inPlace.train();
        assert.ok(onWorker.isTrainingDue());
        const model = onWorker.trainingRequest()!;
        onWorker.installModel(model, await trainer.train(model));
        trainings++;
      }
      inPlaceVerdicts.push(inPlace.observe(data.times[index]!, data.values[index]!));
      onWorkerVerdicts.push(onWorker.observe(data.times[index]!, data.values[index]!));
    }
    assert.ok(trainings >= 3, `${trainings} trainings`);
    assert.ok(inPlaceVerdicts.some((verdict) => verdict.methods.includes('isolation_forest')), 'the forest should take part in some verdict');
    assert.deepEqual(onWorkerVerdicts, inPlaceVerdicts);
    assert.deepEqual(onWorker.snapshot(), inPlace.snapshot());
  });
});

describe('anomaly model training through the app', () => {
  let vigil: RunningApp;
  before(async () => {
    vigil = await startApp({ DATABASE_URL: 'sqlite::memory:', ...KEYS });
  });
  after(() => vigil.close());

  test('a training that fails on the worker leaves its series due, and the next round trains it', async () => {
    // 400 points: past the warm-up and the forest's minimum sample, so the model is due.
    const points = Array.from({ length: 400 }, (_unused, index) => ({ name: 'train.me', value: 100 + (index % 7), timestamp: T0 + index * STEP_MS }));
    const trainer = vigil.app.get(ForestTrainer);
    const detection = vigil.app.get(AnomalyDetectionConsumer);
    const working = trainer.train.bind(trainer);
    let attempts = 0;
    trainer.train = () => {
      attempts++;
      return Promise.reject(new Error('the training worker died'));
    };
    try {
      await ingestMetrics(vigil, points);
      await vigil.settle();
      await assert.rejects(detection.trainDue(), /the training worker died/);
      assert.ok(attempts >= 1);
      assert.equal(detection.trainingBacklog, 1);
      assert.equal((await report(vigil)).models_trained, 0);
    } finally {
      trainer.train = working;
    }
    // The scheduled tick may have run it meanwhile: either way it is trained exactly once now.
    await detection.trainDue();
    assert.equal(detection.trainingBacklog, 0);
    assert.equal((await report(vigil)).models_trained, 1);
  });
});
