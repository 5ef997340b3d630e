import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startChildVigil } from '../support/child-process.js';
import { sqliteDatabase } from '../support/databases.js';
import { MIB, runConnectionAttack } from '../support/hostile-clients.js';

/**
 * The attacks of issue 19 against a real Vigil process, measured from outside
 * (test/support/hostile-clients.ts): connections without a key that send large bodies and never
 * finish, and connections that dribble bodies (with and without a key). The process's resident
 * memory must stay within 64 MiB of its idle size, /health/live must keep answering, and no
 * dribbling connection may outlive the minimum-rate window.
 *
 * How fast /health/live answers meanwhile is measured by `npm run bench -- hostile`, not asserted
 * here (a timing depends on the machine): this test only requires that no probe waits a second,
 * i.e. that the attack never starves the event loop.
 */
test('unauthenticated floods and dribbling bodies hold little memory and never starve /health/live', async () => {
  const vigil = await startChildVigil({ DATABASE_URL: sqliteDatabase().url, VIGIL_INGEST_KEYS: 'ingest-key', VIGIL_READ_KEYS: 'read-key' });
  try {
    const { idleBytes: idle, peakBytes: peak, probeLatencies, stillOpen } = await runConnectionAttack(vigil.url, vigil.process.pid!, 'ingest-key');
    const growthMib = (peak - idle) / MIB;
    const slowest = Math.max(...probeLatencies);
    process.stdout.write(
      `# idle RSS ${(idle / MIB).toFixed(1)} MiB, peak ${(peak / MIB).toFixed(1)} MiB (+${growthMib.toFixed(1)}); ` +
        `${probeLatencies.length} health probes, slowest ${slowest.toFixed(1)} ms\n`,
    );
    assert.equal(stillOpen, 0, 'every dribbling connection was closed within the minimum-rate window');
    assert.ok(growthMib <= 64, `RSS grew by ${growthMib.toFixed(1)} MiB`);
    assert.ok(probeLatencies.length >= 20, `only ${probeLatencies.length} health probes`);
    assert.ok(slowest < 1000, `the slowest /health/live took ${slowest.toFixed(1)} ms: the event loop was starved`);

    const metrics = await (await fetch(`${vigil.url}/metrics`)).text();
    const refused = (reason: string) => Number(/\S+ (\d+)$/.exec(metrics.split('\n').find((line) => line.includes(`reason="${reason}"`)) ?? 'x 0')![1]);
    assert.ok(refused('body_too_slow') + refused('connections_per_address') + refused('body_bytes_in_flight') >= 250, metrics);
  } finally {
    vigil.process.kill('SIGKILL');
    await vigil.exited;
  }
});
