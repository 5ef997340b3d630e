import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { sqliteDatabase } from '../support/databases.js';
import { postJson } from '../support/app.js';
import { FakeDatadog } from '../fakes/datadog-intake.js';
import { waitFor } from './delivery-support.js';

// The compiled main.js of the same build as this test (whatever its outDir).
const MAIN = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'src', 'main.js');

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

function startVigil(env: Record<string, string>): ChildProcess {
  const child = spawn(process.execPath, [MAIN], { env: { PATH: process.env['PATH'] ?? '', ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
  child.stderr?.resume();
  return child;
}

async function waitUntilLive(url: string): Promise<void> {
  await waitFor('Vigil to listen', async () => {
    try {
      return (await fetch(`${url}/health/live`)).status === 200;
    } catch {
      return false;
    }
  }, 20_000);
}

test('SIGKILL during delivery: after restart every accepted item arrives; duplicates are counted and few', async () => {
  const fake = new FakeDatadog('dd-key-0123456789');
  await fake.start();
  // Slow answers, so the kill lands while requests are in flight.
  fake.delayMs = 30;
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const env = {
    PORT: String(port),
    DATABASE_URL: sqliteDatabase().url,
    DATADOG_API_KEY: fake.apiKey,
    DATADOG_API_URL: fake.url,
    VIGIL_DELIVERY_FLUSH_INTERVAL_MS: '20',
    LOG_LEVEL: 'warn',
  };
  let child = startVigil(env);
  const total = 3000;
  try {
    await waitUntilLive(url);
    let sequence = 0;
    let killedAt = -1;
    for (let round = 0; round < 30; round++) {
      const metrics = Array.from({ length: 100 }, () => ({ name: 'crash.points', value: sequence, tags: { seq: String(sequence++) } }));
      const response = await postJson(`${url}/ingest/metrics`, { metrics });
      assert.equal(response.status, 202);
      if (round === 14) {
        // Accepted means durable: kill -9 while the queue is mid-delivery.
        await waitFor('delivery under way', () => fake.points.length > 0);
        child.kill('SIGKILL');
        await new Promise((resolve) => child.once('exit', resolve));
        killedAt = fake.points.length;
        child = startVigil(env);
        await waitUntilLive(url);
      }
    }
    assert.equal(sequence, total);
    assert.ok(killedAt >= 0 && killedAt < total, `killed after ${killedAt} points arrived`);
    await waitFor('every item at Datadog', () => new Set(fake.points.map((point) => point.tags.find((tag) => tag.startsWith('seq:')))).size === total, 30_000);
    const duplicates = fake.points.length - total;
    // At least once: the batch in flight at the kill may arrive twice; no more than one batch (≤ 2000 items).
    assert.ok(duplicates >= 0 && duplicates <= 2000, `${duplicates} duplicates`);
    process.stdout.write(`# crash test: ${killedAt} points had arrived at the kill; ${duplicates} duplicates after restart\n`);
  } finally {
    child.kill('SIGKILL');
    await fake.close();
  }
});
