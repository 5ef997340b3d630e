import { performance } from 'node:perf_hooks';
import { ManualClock } from '../src/common/clock.js';
import type { MetricItem } from '../src/ingest-log/ingest-log.items.js';
import { ReexposedMetrics } from '../src/metrics/exposition/reexposed-metrics.js';
import { VigilMetrics } from '../src/common/vigil.metrics.js';
import type { BenchSection } from './bench-section.js';
import { median } from './bench-support.js';

/**
 * /metrics with ingested metrics re-exposed: the time to render the exposition with 10,000 re-exposed series
 * (on the process registry, Vigil's own metrics included), and the cost of re-exposition per ingested point.
 */
const SERIES = 10_000;

function fill(kind: 'gauge' | 'count' | 'distribution'): { metrics: VigilMetrics; bytes: () => Promise<number>; scrapeMs: () => Promise<number> } {
  const metrics = new VigilMetrics();
  const clock = new ManualClock();
  const store = new ReexposedMetrics(metrics.registry, clock, { maxSeries: SERIES, maxLabelValuesPerMetric: 1000, seriesTtlSeconds: 600 });
  const items: MetricItem[] = [];
  // 20 metric names × 500 endpoints: 10,000 series.
  for (let index = 0; index < SERIES; index++) {
    items.push({ name: `app.metric_${index % 20}`, value: index % 97, type: kind, unit: kind === 'distribution' ? 'ms' : undefined, timestamp: clock.now(), tags: { endpoint: `/e/${Math.floor(index / 20)}`, region: 'eu' } });
  }
  store.observe(items);
  return {
    metrics,
    bytes: async () => Buffer.byteLength(await metrics.registry.metrics()),
    scrapeMs: async () => {
      const start = performance.now();
      await metrics.registry.metrics();
      return performance.now() - start;
    },
  };
}

export async function run(): Promise<BenchSection> {
  const rows: BenchSection['rows'] = [];
  for (const kind of ['gauge', 'distribution'] as const) {
    const { scrapeMs, bytes } = fill(kind);
    await scrapeMs();
    const times: number[] = [];
    for (let round = 0; round < 7; round++) times.push(await scrapeMs());
    rows.push({
      name: `/metrics render, ${SERIES.toLocaleString('en')} re-exposed ${kind === 'gauge' ? 'gauge' : 'histogram (16 buckets)'} series`,
      value: Math.round(median(times) * 10) / 10,
      unit: 'ms',
      note: `${(await bytes() / 1024 / 1024).toFixed(1)} MiB of exposition`,
    });
  }

  // Points/s through the observer alone (what the ingest path pays per committed metric point).
  const metrics = new VigilMetrics();
  const clock = new ManualClock();
  const store = new ReexposedMetrics(metrics.registry, clock, { maxSeries: SERIES, maxLabelValuesPerMetric: 1000, seriesTtlSeconds: 600 });
  const batch: MetricItem[] = Array.from({ length: 1000 }, (_unused, index) => ({
    name: `app.metric_${index % 10}`,
    value: index,
    type: (['gauge', 'count', 'distribution'] as const)[index % 3]!,
    timestamp: clock.now() + index,
    tags: { endpoint: `/e/${index % 100}`, host: `h${index % 5}` },
  }));
  // Name each type apart so they do not collide.
  for (const item of batch) item.name = `${item.name}.${item.type}`;
  store.observe(batch);
  const rounds = 500;
  const start = performance.now();
  for (let round = 0; round < rounds; round++) {
    clock.advance(1);
    store.observe(batch);
  }
  const seconds = (performance.now() - start) / 1000;
  rows.push({ name: 'Re-exposition of ingested points (observer alone, mixed types, 1000-point batches)', value: Math.round((rounds * batch.length) / seconds), unit: 'points/s' });
  return { title: 'Prometheus exposition of ingested metrics', rows };
}
