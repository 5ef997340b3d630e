import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { freePort, startChildVigil, type ChildVigil } from '../support/child-process.js';
import { BOTH_DATABASES } from '../support/databases.js';
import { storedItems } from '../support/stored-entries.js';
import { loadConfig } from '../../src/config/app.config.js';
import { openDatabase } from '../../src/storage/database.provider.js';
import { exportCollected, exportMetrics, exportSpans, makeSpans, meterProvider, SUCCESS, type ExporterOptions } from './otel-sdk.js';

const INGEST_KEY = 'ingest-key-0123456789';
const READ_KEY = 'read-key-0123456789';

async function sample(url: string, family: string, service: string): Promise<number | undefined> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const line = text.split('\n').find((candidate) => candidate.startsWith(`${family}{`) && candidate.includes(`service="${service}"`));
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1));
}

async function killed(vigil: ChildVigil): Promise<void> {
  vigil.process.kill('SIGKILL');
  assert.equal((await vigil.exited).signal, 'SIGKILL');
}

/**
 * A real Vigil process, exported to on its VIGIL_OTLP_PORT by the real SDK exporter, killed with
 * SIGKILL right after the export succeeded: everything the 200 acknowledged is there after a
 * restart, and a cumulative series is not counted twice.
 */
for (const { name, make } of BOTH_DATABASES) {
  describe(`OTLP crash durability on ${name}`, () => {
    test('kill -9 right after a successful export loses no span; a restart counts no cumulative series twice', async () => {
      const database = await make();
      let vigil: ChildVigil | undefined;
      try {
        const otlpPort = await freePort();
        const env = { DATABASE_URL: database.url, VIGIL_INGEST_KEYS: INGEST_KEY, VIGIL_READ_KEYS: READ_KEY, VIGIL_OTLP_PORT: String(otlpPort) };
        vigil = await startChildVigil(env);
        const options: ExporterOptions = { baseUrl: `http://127.0.0.1:${otlpPort}`, encoding: 'protobuf', gzip: true, headers: { authorization: `Bearer ${INGEST_KEY}` } };
        const start = Date.now() - 30_000;
        const spans = Array.from({ length: 250 }, (_, index) => ({ route: '/pay', method: 'POST', status: index % 25 === 0 ? 500 : 201, startMs: start + index, durationMs: 1 + (index % 50) }));
        assert.equal((await exportSpans(options, makeSpans('crashy', spans))).code, SUCCESS);
        const { provider, reader } = meterProvider('crashy');
        const counter = provider.getMeter('crash').createCounter('crash.payments');
        counter.add(10);
        const first = await exportMetrics(options, reader);
        assert.equal(first.result.code, SUCCESS);
        await killed(vigil);

        vigil = await startChildVigil(env);
        const read = { authorization: `Bearer ${READ_KEY}` };
        // The SLA consumer applies the log after startup, on its own schedule: wait until it has
        // (at most a minute), then compare exactly.
        const slaStatus = async () => (await (await fetch(`${vigil!.url}/sla/status/crashy`, { headers: read })).json()) as { metrics?: { requests: Record<string, number> } };
        let status = await slaStatus();
        for (const deadline = Date.now() + 60_000; (status.metrics?.requests['total'] ?? 0) < 250 && Date.now() < deadline; status = await slaStatus()) {
          await new Promise((resolve) => setTimeout(resolve, 200));
        }
        const failed = spans.filter((span) => span.status >= 500).length;
        assert.deepEqual(status.metrics?.requests, { total: 250, successful: 250 - failed, failed });

        // The exporter's retry of the acknowledged point (its 200 lost with the process) adds
        // nothing; the next point adds its increase: 10 + 15 stored in all, 15 on the new
        // process's /metrics (each process exposes what it accepted itself).
        assert.equal((await exportCollected(options, first.collected)).code, SUCCESS);
        counter.add(15);
        assert.equal((await exportMetrics(options, reader)).result.code, SUCCESS);
        assert.equal(await sample(vigil.url, 'vigil_app_crash_payments_total', 'crashy'), 15);
        const db = openDatabase(loadConfig({ DATABASE_URL: database.url }).database);
        try {
          const counts = (await storedItems<{ name: string; value: number }>(db, ['metric'])).filter((item) => item.name === 'crash.payments');
          assert.deepEqual(counts.map((item) => item.value), [10, 15]);
        } finally {
          await db.destroy();
        }
        await provider.shutdown();
      } finally {
        if (vigil !== undefined && vigil.process.exitCode === null && vigil.process.signalCode === null) await killed(vigil);
        await database.drop();
      }
    });
  });
}
