import type { BenchRow, BenchSection } from './bench-section.js';
import { postJson, startApp } from '../test/support/app.js';
import { sqliteDatabase } from '../test/support/databases.js';
import { FakeDatadog } from '../test/fakes/datadog-intake.js';
import { FakeNewRelic } from '../test/fakes/newrelic-intake.js';
import { metricsText, sample, waitFor } from '../test/delivery/delivery-support.js';

const ITEMS = 50_000;
const PER_REQUEST = 1000;


/**
 * Delivery throughput: ITEMS gauge points ingested as fast as Vigil accepts them,
 * timed from the first POST until Vigil counts the last one delivered (ingest,
 * durable queue, batching, gzip, HTTP to a local fake; SQLite store).
 */
async function measure(destination: 'datadog' | 'newrelic'): Promise<BenchRow> {
  const datadog = new FakeDatadog('bench-dd-key');
  const newRelic = new FakeNewRelic('bench-nr-license');
  const fake = destination === 'datadog' ? datadog : newRelic;
  await fake.start();
  const env =
    destination === 'datadog'
      ? { DATADOG_API_KEY: datadog.apiKey, DATADOG_API_URL: datadog.url }
      : { NEW_RELIC_LICENSE_KEY: newRelic.licenseKey, NEW_RELIC_METRIC_API_URL: newRelic.metricApiUrl };
  const vigil = await startApp({ DATABASE_URL: sqliteDatabase().url, LOG_LEVEL: 'warn', VIGIL_DELIVERY_FLUSH_INTERVAL_MS: '50', ...env });
  // Counted by Vigil, not by the intake: Datadog keeps one gauge point per series and
  // second, so the destination sends fewer points than it delivers items.
  const delivered = async () => sample(await metricsText(vigil.url), 'vigil_delivery_items_total', { destination, outcome: 'delivered' });
  try {
    const started = performance.now();
    for (let sent = 0; sent < ITEMS; sent += PER_REQUEST) {
      const metrics = Array.from({ length: PER_REQUEST }, (_, index) => ({ name: 'bench.delivery', value: sent + index, tags: { host: `h${index % 50}` } }));
      const response = await postJson(`${vigil.url}/ingest/metrics`, { metrics });
      if (response.status !== 202) throw new Error(`ingest answered ${response.status}`);
    }
    await waitFor(`${ITEMS} items delivered to ${destination}`, async () => (await delivered()) >= ITEMS, 120_000);
    const seconds = (performance.now() - started) / 1000;
    return {
      name: `ingest → ${destination} fake intake, ${ITEMS} gauge points in ${PER_REQUEST}-item POSTs`,
      value: Math.round(ITEMS / seconds),
      unit: 'items/s',
      note: `${fake.accepted.length} intake requests, end to end on SQLite`,
    };
  } finally {
    await vigil.close();
    await fake.close();
  }
}

export async function run(): Promise<BenchSection> {
  return { title: 'Delivery', rows: [await measure('datadog'), await measure('newrelic')] };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  run()
    .then((section) => {
      for (const row of section.rows) process.stdout.write(`${row.name}: ${row.value} ${row.unit} (${row.note ?? ''})\n`);
    })
    .catch((error: unknown) => {
      process.stderr.write(`${String(error)}\n`);
      process.exit(1);
    });
}
