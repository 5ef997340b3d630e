/**
 * Child process of newrelic-agent.test.ts: loads the newrelic agent first (as
 * main.ts does when NEW_RELIC_LICENSE_KEY is set), then the whole app, serves a
 * few requests, and prints the names of the transactions the agent recorded.
 * Its own process, because the agent patches the runtime for good.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const { prepareNewRelicAgentEnvironment } = await import('../../src/config/process-environment.js');
prepareNewRelicAgentEnvironment();
const newrelic = (await import('newrelic')).default as { agent: { on(event: string, listener: (transaction: { getFullName(): string }) => void): void } };
const names: string[] = [];
newrelic.agent.on('transactionFinished', (transaction) => names.push(transaction.getFullName()));

const { createVigilApp } = await import('../../src/app.factory.js');
const { loadConfig } = await import('../../src/config/app.config.js');
const directory = mkdtempSync(join(tmpdir(), 'vigil-newrelic-'));
const app = await createVigilApp(loadConfig({ DATABASE_URL: `sqlite:${join(directory, 'vigil.db')}`, LOG_LEVEL: 'error' }));
await app.listen({ port: 0, host: '127.0.0.1' });
const address = app.getHttpServer().address();
const base = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
await fetch(`${base}/ingest/metrics`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"metrics":[{"name":"a","value":1}]}' });
await fetch(`${base}/sla/status/api`);
await fetch(`${base}/health/live`);
await new Promise((resolve) => setTimeout(resolve, 200));
process.stdout.write(`${JSON.stringify(names)}\n`);
await app.close();
process.exit(0);
