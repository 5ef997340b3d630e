import assert from 'node:assert/strict';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { sqliteDatabase } from '../support/databases.js';
import { getJson, postJson, startApp, type RunningApp } from '../support/app.js';
import { waitFor } from './delivery-support.js';

const INGEST_KEY = 'ingest-key-0123456789';
const ADMIN_KEY = 'admin-key-0123456789';
const DATADOG_KEY = 'dd-api-key-0123456789';
const NEW_RELIC_KEY = 'nr-license-0123456789';

async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

describe('a vendor URL that redirects', () => {
  // Where a hijacked or mistyped intake would send the requests: it must never see a key.
  const elsewhereHeaders: IncomingHttpHeaders[] = [];
  const elsewhere = createServer((request, response) => {
    elsewhereHeaders.push(request.headers);
    response.writeHead(202).end('{}');
  });
  let redirects = 0;
  let elsewhereUrl = '';
  const redirector = createServer((request, response) => {
    redirects++;
    request.resume();
    response.writeHead(307, { location: `${elsewhereUrl}${request.url ?? '/'}` }).end();
  });
  let vigil: RunningApp;

  before(async () => {
    elsewhereUrl = await listen(elsewhere);
    const redirectorUrl = await listen(redirector);
    vigil = await startApp({
      DATABASE_URL: sqliteDatabase().url,
      VIGIL_INGEST_KEYS: INGEST_KEY,
      VIGIL_ADMIN_KEYS: ADMIN_KEY,
      VIGIL_DELIVERY_FLUSH_INTERVAL_MS: '50',
      DATADOG_API_KEY: DATADOG_KEY,
      DATADOG_API_URL: redirectorUrl,
      NEW_RELIC_LICENSE_KEY: NEW_RELIC_KEY,
      NEW_RELIC_METRIC_API_URL: `${redirectorUrl}/metric/v1`,
    });
  });
  after(async () => {
    await vigil.close();
    await Promise.all([new Promise((resolve) => elsewhere.close(resolve)), new Promise((resolve) => redirector.close(resolve))]);
  });

  test('is not followed: the batch is refused with the redirect status, and the key goes nowhere else', async () => {
    const ingested = await postJson(`${vigil.url}/ingest/metrics`, { metrics: [{ name: 'redirect.check', value: 1 }] }, { authorization: `Bearer ${INGEST_KEY}` });
    assert.equal(ingested.status, 202);
    const deadLetters = async (destination: string) =>
      (await getJson(`${vigil.url}/admin/dead-letters?destination=${destination}`, { authorization: `Bearer ${ADMIN_KEY}` })).body['items'] as Array<{ status: number | null; detail: string }>;
    await waitFor('dead letters at both destinations', async () => (await deadLetters('datadog')).length === 1 && (await deadLetters('newrelic')).length === 1);
    for (const destination of ['datadog', 'newrelic']) {
      const [letter] = await deadLetters(destination);
      assert.equal(letter!.status, 307, destination);
    }
    assert.equal(redirects, 2);
    assert.deepEqual(elsewhereHeaders, []);
  });
});
