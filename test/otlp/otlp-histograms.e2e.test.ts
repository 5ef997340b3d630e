import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { AggregationType, MeterProvider } from '@opentelemetry/sdk-metrics';
import { startApp, type RunningApp } from '../support/app.js';
import { sqliteDatabase, type TestDatabase } from '../support/databases.js';
import { exportCollected, exportMetrics, ManualReader, resource, SUCCESS, type ExporterOptions, type OtlpEncodingUnderTest } from './otel-sdk.js';

const INGEST_KEY = 'ingest-key-0123456789';

/** Every sample of `family` whose labels include `labels`, by its full line minus the value. */
async function samples(url: string, family: string, labels: Record<string, string>): Promise<Map<string, number>> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const found = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (!line.startsWith(family)) continue;
    if (!Object.entries(labels).every(([name, value]) => line.includes(`${name}="${value}"`))) continue;
    const le = /le="([^"]+)"/.exec(line)?.[1];
    const suffix = line.slice(family.length, line.indexOf('{'));
    found.set(le === undefined ? suffix : `${suffix}:${le}`, Number(line.slice(line.lastIndexOf(' ') + 1)));
  }
  return found;
}

describe('OTLP histograms from the OpenTelemetry SDK, re-exposed on /metrics as Prometheus histograms', () => {
  let database: TestDatabase;
  let vigil: RunningApp;
  before(async () => {
    database = sqliteDatabase();
    vigil = await startApp({ DATABASE_URL: database.url, VIGIL_INGEST_KEYS: INGEST_KEY });
  });
  after(async () => {
    await vigil.close();
    await database.drop();
  });

  for (const encoding of ['protobuf', 'json'] as OtlpEncodingUnderTest[]) {
    test(`${encoding}: cumulative explicit-bucket and exponential histograms add up to exactly what was recorded, once`, async () => {
      const options: ExporterOptions = { baseUrl: vigil.url, encoding, gzip: encoding === 'json', headers: { authorization: `Bearer ${INGEST_KEY}` } };
      const service = `histograms-${encoding}`;
      const reader = new ManualReader();
      const provider = new MeterProvider({
        resource: resource(service),
        readers: [reader],
        views: [
          { instrumentName: 'checkout.items', aggregation: { type: AggregationType.EXPLICIT_BUCKET_HISTOGRAM, options: { boundaries: [10, 50, 100] } } },
          { instrumentName: 'queue.wait', aggregation: { type: AggregationType.EXPONENTIAL_HISTOGRAM, options: { maxSize: 160 } } },
        ],
      });
      const meter = provider.getMeter('vigil-test');
      const items = meter.createHistogram('checkout.items');
      const wait = meter.createHistogram('queue.wait');
      const rounds = [
        { items: [5, 20, 20, 70, 200], wait: [1, 2, 3, 4] },
        { items: [30, 120], wait: [1000, 0.5] },
      ];
      let last;
      for (const round of rounds) {
        for (const value of round.items) items.record(value);
        for (const value of round.wait) wait.record(value);
        const exported = await exportMetrics(options, reader);
        assert.equal(exported.result.code, SUCCESS, String(exported.result.error));
        last = exported.collected;
      }
      // The last cumulative points again, as an exporter's retry or final flush sends them.
      assert.equal((await exportCollected(options, last!)).code, SUCCESS);
      await provider.shutdown();

      const recorded = rounds.flatMap((round) => round.items);
      const atOrBelow = (bound: number) => recorded.filter((value) => value <= bound).length;
      assert.deepEqual(
        Object.fromEntries(await samples(vigil.url, 'vigil_app_checkout_items', { service })),
        { '_bucket:10': atOrBelow(10), '_bucket:50': atOrBelow(50), '_bucket:100': atOrBelow(100), '_bucket:+Inf': recorded.length, _sum: 465, _count: 7 },
      );
      const waits = rounds.flatMap((round) => round.wait);
      const exponential = await samples(vigil.url, 'vigil_app_queue_wait', { service });
      assert.equal(exponential.get('_count'), waits.length);
      assert.equal(exponential.get('_sum'), waits.reduce((sum, value) => sum + value, 0));
      assert.equal(exponential.get('_bucket:+Inf'), waits.length);
    });
  }
});
