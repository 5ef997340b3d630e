/**
 * The detectors on the DetectionThread: exactly the verdicts and state of a detector in place,
 * and a training request the thread fails leaves its series due, trained after the reload.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { AnomalyDetectionConsumer } from '../../src/anomalies/anomaly-detection.consumer.js';
import { DetectionThread } from '../../src/anomalies/detection-thread.client.js';
import { parseSeriesCsv } from '../../src/anomalies/detection/backtest.js';
import { SeriesDetector } from '../../src/anomalies/detection/series-detector.js';
import { startApp, type RunningApp } from '../support/app.js';
import { captureNestLogs } from '../support/nest-logs.js';
import { KEYS, ingestMetrics, report } from './anomalies-http.js';
import { STEP_MS, T0 } from './synthetic.js';

const medium = { sensitivity: 'medium' as const };
const CHUNK = 250;

describe('DetectionThread', () => {
  const thread = new DetectionThread();
  after(() => thread.close());

  test('a series observed and trained on the thread gets exactly the verdicts and state of a detector in place', async () => {
    const data = parseSeriesCsv(fs.readFileSync(path.join(process.cwd(), 'test/fixtures/nab/data/realKnownCause/rogue_agent_key_updown.csv'), 'utf8'));
    const inPlace = SeriesDetector.create(medium);
    await thread.reset(medium);
    const expected: Array<{ index: number; score: number; expected: number; severity: string; methods: string[] }> = [];
    const onThread: typeof expected = [];
    let expectedModelled = 0;
    let modelled = 0;
    let trainings = 0;
    for (let start = 0; start < data.values.length; start += CHUNK) {
      const end = Math.min(data.values.length, start + CHUNK);
      // Training happens between requests on the thread, so in place it happens at the same boundaries.
      if (inPlace.isTrainingDue()) {
        inPlace.train();
        const result = await thread.train({ load: [], handles: [0] });
        assert.deepEqual(result, { trained: [0], failed: [] });
        trainings++;
      }
      for (let index = start; index < end; index++) {
        const before = inPlace.pointsSeen;
        const verdict = inPlace.observe(data.times[index]!, data.values[index]!);
        if (inPlace.pointsSeen > before) expectedModelled++;
        if (verdict.anomalous) expected.push({ index, score: verdict.score, expected: verdict.expected, severity: verdict.severity, methods: verdict.methods });
      }
      const observed = await thread.observe({
        load: start === 0 ? [{ handle: 0, state: null }] : [],
        handles: new Int32Array(end - start),
        timestamps: Float64Array.from(data.times.slice(start, end)),
        values: Float64Array.from(data.values.slice(start, end)),
        snapshot: [],
      });
      modelled += observed.modelled.reduce((sum, flag) => sum + flag, 0);
      for (const anomaly of observed.anomalies) onThread.push({ ...anomaly, index: start + anomaly.index });
      assert.deepEqual(observed.due, inPlace.isTrainingDue() ? [0] : []);
    }
    assert.ok(trainings >= 3, `${trainings} trainings`);
    assert.ok(expected.length > 0 && expected.some((verdict) => verdict.methods.includes('isolation_forest')), 'the forest should take part in some anomaly');
    assert.deepEqual(onThread, expected);
    assert.equal(modelled, expectedModelled);
    const final = await thread.observe({ load: [], handles: new Int32Array(0), timestamps: new Float64Array(0), values: new Float64Array(0), snapshot: [0] });
    assert.deepEqual(final.snapshots, [{ handle: 0, state: JSON.stringify(inPlace.snapshot()), trained: true }]);
  });

  test('a handle the thread does not hold is refused, so a caller that lost track must reload', async () => {
    await thread.reset(medium);
    await assert.rejects(thread.train({ load: [], handles: [7] }), /series handle 7 is not loaded/);
  });

  test('losing the thread tells its listeners once and logs it once; closing it does neither', async (t) => {
    const logs = captureNestLogs();
    t.after(() => logs.restore());
    const own = new DetectionThread();
    let losses = 0;
    own.onLost(() => losses++);
    await own.reset(medium);
    const running = own as unknown as { worker: { terminate(): Promise<number> } | undefined };
    await running.worker!.terminate();
    while (running.worker !== undefined) await new Promise((resolve) => setTimeout(resolve, 10));
    assert.equal(losses, 1);
    assert.deepEqual(logs.text, ['ERROR [DetectionThread] The detection thread stopped (exit code 1); the anomaly models are reloaded from the store']);
    await own.reset(medium);
    await own.close();
    assert.equal(losses, 1);
    assert.equal(logs.lines.length, 1, 'closing the thread logs nothing');
  });
});

describe('anomaly model training through the app', () => {
  let vigil: RunningApp;
  before(async () => {
    vigil = await startApp({ DATABASE_URL: 'sqlite::memory:', ...KEYS });
  });
  after(() => vigil.close());

  test('a training the thread fails leaves its series due; the next batch reloads the models and the next round trains it', async () => {
    // 400 points: past the warm-up and the forest's minimum sample, so the model is due.
    const points = Array.from({ length: 400 }, (_unused, index) => ({ name: 'train.me', value: 100 + (index % 7), timestamp: T0 + index * STEP_MS }));
    const thread = vigil.app.get(DetectionThread);
    const detection = vigil.app.get(AnomalyDetectionConsumer);
    const working = thread.train.bind(thread);
    let attempts = 0;
    thread.train = () => {
      attempts++;
      return Promise.reject(new Error('the detection thread stopped'));
    };
    try {
      await ingestMetrics(vigil, points);
      await assert.rejects(detection.trainDue(), /the detection thread stopped/);
      assert.ok(attempts >= 1);
      assert.equal(detection.trainingBacklog, 1);
      assert.equal((await report(vigil)).models_trained, 0);
    } finally {
      thread.train = working;
    }
    // Until a batch reloads the models, no round runs on a thread that may have lost them.
    assert.equal(await detection.trainDue(), 0);
    await ingestMetrics(vigil, [{ name: 'train.me', value: 103, timestamp: T0 + 400 * STEP_MS }]);
    await detection.trainDue();
    assert.equal(detection.trainingBacklog, 0);
    assert.equal((await report(vigil)).models_trained, 1);
    assert.equal((await report(vigil)).total_points_processed, 401);
  });
});
