import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { loadConfig } from '../../src/config/app.config.js';
import { openDatabase } from '../../src/storage/database.provider.js';
import { startChildVigil, type ChildVigil } from '../support/child-process.js';
import { BOTH_DATABASES } from '../support/databases.js';
import { storedItems } from '../support/stored-entries.js';

const PRELOAD = new URL('./uncaught-exception.preload.js', import.meta.url).href;

interface LogLine {
  level: number;
  msg: string;
  err?: { message?: string };
}

function logLines(output: string): LogLine[] {
  return output
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as LogLine);
}

/**
 * A real Vigil process meets an uncaught exception after startup (thrown from a
 * timer by a test-only preload module): it logs it, closes what it can, exits
 * non-zero for the supervisor to restart it, and a restarted process has every
 * item acknowledged before the crash.
 */
for (const { name, make } of BOTH_DATABASES) {
  describe(`uncaught exception on ${name}`, () => {
    test('is logged, shuts down and exits 1; a restart keeps every acknowledged item', { timeout: 60_000 }, async () => {
      const database = await make();
      let vigil: ChildVigil | undefined;
      try {
        vigil = await startChildVigil({ DATABASE_URL: database.url, LOG_LEVEL: 'info', NODE_OPTIONS: `--import=${PRELOAD}` });
        const metrics = Array.from({ length: 50 }, (_, value) => ({ name: 'uncaught.test', value }));
        const accepted = await fetch(`${vigil.url}/ingest/metrics`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ metrics }),
        });
        assert.equal(accepted.status, 202);

        vigil.process.kill('SIGUSR2');
        const exit = await vigil.exited;
        assert.deepEqual(exit, { code: 1, signal: null }, vigil.output());

        const lines = logLines(vigil.output());
        const fatal = lines.find((line) => line.level === 60);
        assert.ok(fatal, `no fatal line in:\n${vigil.output()}`);
        assert.match(fatal.msg, /^Uncaught exception: .*exiting with code 1/);
        assert.equal(fatal.err?.message, 'uncaught exception provoked by the test');
        // What could be closed was closed: the clean shutdown ran to its end.
        assert.ok(lines.some((line) => line.msg === 'Shutdown complete; exiting with code 1'), vigil.output());
        await assert.rejects(fetch(`${vigil.url}/health/live`));

        const db = openDatabase(loadConfig({ DATABASE_URL: database.url }).database);
        try {
          const stored = new Set((await storedItems<{ value: number }>(db, ['metric'])).map((item) => item.value));
          assert.deepEqual(
            metrics.filter((metric) => !stored.has(metric.value)),
            [],
          );
        } finally {
          await db.destroy();
        }

        // The supervisor's restart: the same store opens and serves.
        const restarted = await startChildVigil({ DATABASE_URL: database.url });
        assert.equal((await fetch(`${restarted.url}/health/ready`)).status, 200);
        restarted.process.kill('SIGTERM');
        assert.deepEqual(await restarted.exited, { code: 0, signal: null });
      } finally {
        // A Vigil that carried on after the exception would outlive the test.
        if (vigil && vigil.process.exitCode === null) vigil.process.kill('SIGKILL');
        await database.drop();
      }
    });
  });
}
