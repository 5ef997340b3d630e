/**
 * The detectors on the DetectionThread: exactly the verdicts and state of a detector in place,
 * whatever the request boundaries; the report's models_trained counts series past their warm-up.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { DetectionThread } from '../../src/anomalies/detection-thread.client.js';
import { parseSeriesCsv } from '../../src/anomalies/detection/backtest.js';
import { SeriesDetector, TUNING } from '../../src/anomalies/detection/series-detector.js';
import { getJson, startApp, type RunningApp } from '../support/app.js';
import { captureNestLogs } from '../support/nest-logs.js';
import { KEYS, ingestMetrics, report } from './anomalies-http.js';
import { STEP_MS, T0 } from './synthetic.js';

const medium = { sensitivity: 'medium' as const };

describe('DetectionThread', () => {
  const thread = new DetectionThread();
  after(() => thread.close());

  for (const chunk of [250, 997]) {
  test(`a series observed on the thread in requests of ${chunk} points gets exactly the verdicts and state of a detector in place`, async () => {
    const data = parseSeriesCsv(fs.readFileSync(path.join(process.cwd(), 'test/fixtures/nab/data/realKnownCause/rogue_agent_key_updown.csv'), 'utf8'));
    const inPlace = SeriesDetector.create(medium);
    await thread.reset(medium);
    const expected: Array<{ index: number; score: number; expected: number; severity: string; methods: string[] }> = [];
    const onThread: typeof expected = [];
    let expectedModelled = 0;
    let modelled = 0;
    for (let start = 0; start < data.values.length; start += chunk) {
      const end = Math.min(data.values.length, start + chunk);
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
      const passedWarmup = start < TUNING.warmupPoints && end >= TUNING.warmupPoints;
      assert.deepEqual(observed.ready, passedWarmup ? [0] : []);
    }
    assert.ok(expected.length > 0, 'the series should have anomalies');
    assert.deepEqual(onThread, expected);
    assert.equal(modelled, expectedModelled);
    const final = await thread.observe({ load: [], handles: new Int32Array(0), timestamps: new Float64Array(0), values: new Float64Array(0), snapshot: [0] });
    assert.deepEqual(final.snapshots, [{ handle: 0, state: JSON.stringify(inPlace.snapshot()), trained: true }]);
  });
  }

  test("the thread's memory outside its heap stays within one request's arrays, however many requests it answers", async () => {
    const own = new DetectionThread();
    try {
      await own.reset(medium);
      const series = 10;
      const points = 20_000;
      // Per point: an Int32 handle, a Float64 timestamp and a Float64 value; the result's flags are one byte a point.
      const requestBytes = points * (4 + 8 + 8) + points;
      // As the thread answers its first request: what Node itself holds outside the heap (~3 MB), and that request's arrays.
      let first = 0;
      let largest = 0;
      for (let request = 0; request < 40; request++) {
        await own.observe({
          load: request === 0 ? Array.from({ length: series }, (_unused, handle) => ({ handle, state: null })) : [],
          handles: Int32Array.from({ length: points }, (_unused, index) => index % series),
          timestamps: Float64Array.from({ length: points }, (_unused, index) => T0 + (request * points + index) * STEP_MS),
          values: Float64Array.from({ length: points }, (_unused, index) => 100 + (index % 17)),
          snapshot: [],
        });
        if (request === 0) first = own.memory!.externalBytes;
        largest = Math.max(largest, own.memory!.externalBytes);
        // Its heap stays within its resourceLimits (48 + 8 MiB at the default budget).
        assert.ok(own.memory!.heapBytes <= 56 * 1024 * 1024, `heap ${own.memory!.heapBytes}`);
      }
      // 40 requests sent 40 × 420,000 bytes; the thread holds the current request's arrays only.
      // Kept until its collector ran, they grew by a request each (16 MB here; up to V8's 64 MiB trigger under load).
      assert.ok(first > requestBytes, `first ${first}`);
      assert.ok(largest <= first + requestBytes, `external ${largest} bytes against ${first} after the first request`);
    } finally {
      await own.close();
    }
    assert.equal(own.memory, undefined);
  });

  test('a handle the thread does not hold is refused, so a caller that lost track must reload', async () => {
    await thread.reset(medium);
    const request = { load: [], handles: Int32Array.of(7), timestamps: Float64Array.of(T0), values: Float64Array.of(1), snapshot: [] };
    await assert.rejects(thread.observe(request), /series handle 7 is not loaded/);
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

describe('models_trained through the app', () => {
  let vigil: RunningApp;
  before(async () => {
    vigil = await startApp({ DATABASE_URL: 'sqlite::memory:', ...KEYS });
  });
  after(() => vigil.close());

  test('a series counts as trained from the batch in which its detector passes the warm-up, not on a schedule', async () => {
    const point = (index: number) => ({ name: 'warm.me', value: 100 + (index % 7), timestamp: T0 + index * STEP_MS });
    await ingestMetrics(vigil, Array.from({ length: TUNING.warmupPoints - 1 }, (_unused, index) => point(index)));
    assert.equal((await report(vigil)).models_trained, 0);
    await ingestMetrics(vigil, [point(TUNING.warmupPoints - 1)]);
    assert.equal((await report(vigil)).models_trained, 1);
    assert.equal((await report(vigil)).total_points_processed, TUNING.warmupPoints);
  });

  test('/metrics shows the detection thread\'s memory as of its last reply, within its share, and the SQLite page cache\'s share', async () => {
    await ingestMetrics(vigil, [{ name: 'measure.me', value: 1, timestamp: T0 }]);
    await vigil.settle();
    const text = (await getJson(`${vigil.url}/metrics`)).text;
    const line = (name: string, part: string) => Number(new RegExp(`^${name}\\{part="${part}"\\} (\\S+)$`, 'm').exec(text)?.[1]);
    const worker = line('vigil_memory_part_bytes', 'detection_worker');
    // Node's own buffers outside the heap alone are ~3 MB; the share is 48 + 8 MiB at the default budget.
    assert.ok(worker > 1024 * 1024 && worker <= line('vigil_memory_share_bytes', 'detection_worker'), `detection_worker ${worker}`);
    assert.equal(line('vigil_memory_share_bytes', 'detection_worker'), 56 * 1024 * 1024);
    assert.equal(line('vigil_memory_share_bytes', 'sqlite_page_cache'), 64 * 1024 * 1024);
  });
});
