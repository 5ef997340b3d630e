import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

test('with a license key the newrelic agent instruments Vigil and names transactions by route', async () => {
  const child = fileURLToPath(new URL('./newrelic-agent.child.js', import.meta.url));
  const { stdout } = await promisify(execFile)(process.execPath, [child], {
    env: {
      PATH: process.env['PATH'] ?? '',
      NEW_RELIC_LICENSE_KEY: '0000000000000000000000000000000000000000',
      // Nothing listens there: the agent's collector connection fails at once, instrumentation still runs.
      NEW_RELIC_HOST: '127.0.0.1',
      NEW_RELIC_PORT: '9',
      NEW_RELIC_LOG_ENABLED: 'false',
    },
    timeout: 60_000,
  });
  const names = JSON.parse(stdout.trim().split('\n').pop()!) as string[];
  assert.deepEqual(names.sort(), [
    'WebTransaction/WebFrameworkUri/Fastify/GET//health/live',
    'WebTransaction/WebFrameworkUri/Fastify/GET//sla/status/:service',
    'WebTransaction/WebFrameworkUri/Fastify/POST//ingest/metrics',
  ]);
});
