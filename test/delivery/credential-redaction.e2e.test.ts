import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { sqliteDatabase } from '../support/databases.js';
import { getJson, postJson, startApp, type RunningApp } from '../support/app.js';
import { FakeDatadog } from '../fakes/datadog-intake.js';
import { FakeNewRelic } from '../fakes/newrelic-intake.js';
import { FakeSplunkHec } from '../fakes/splunk-hec.fake.js';
import { metricsText, waitFor } from './delivery-support.js';

const INGEST_KEY = 'ingest-key-0123456789';
const ADMIN_KEY = 'admin-key-0123456789';
const DATADOG_KEY = 'dd-api-key-0123456789';
// A proxy password in DATADOG_API_URL's userinfo: fetch refuses such a URL and quotes it whole.
const DATADOG_PROXY_PASSWORD = 'dd-proxy-password-0123456789';
// A license key pasted with a line break: fetch refuses the header and quotes its value whole.
const NEW_RELIC_KEY_PARTS = ['nr-license-0123456789', 'second-line-0123456789'];
const HEC_TOKEN = 'hec-token-0123456789';
const SECRETS = [INGEST_KEY, ADMIN_KEY, DATADOG_KEY, DATADOG_PROXY_PASSWORD, ...NEW_RELIC_KEY_PARTS, HEC_TOKEN];

function assertNoSecret(text: string, where: string): void {
  for (const secret of SECRETS) assert.equal(text.includes(secret), false, `${where} holds ${secret}`);
}

describe('credentials never reach logs, dead letters or metrics', () => {
  const datadog = new FakeDatadog(DATADOG_KEY);
  const newRelic = new FakeNewRelic(NEW_RELIC_KEY_PARTS.join(''));
  const hec = new FakeSplunkHec({ tokens: [HEC_TOKEN] });
  let vigil: RunningApp;
  const ingest = { authorization: `Bearer ${INGEST_KEY}` };
  const admin = { authorization: `Bearer ${ADMIN_KEY}` };

  before(async () => {
    await Promise.all([datadog.start(), newRelic.start(), hec.start()]);
    vigil = await startApp({
      DATABASE_URL: sqliteDatabase().url,
      VIGIL_INGEST_KEYS: INGEST_KEY,
      VIGIL_ADMIN_KEYS: ADMIN_KEY,
      VIGIL_DELIVERY_FLUSH_INTERVAL_MS: '50',
      DATADOG_API_KEY: DATADOG_KEY,
      DATADOG_API_URL: datadog.url.replace('http://', `http://vigil:${DATADOG_PROXY_PASSWORD}@`),
      NEW_RELIC_LICENSE_KEY: NEW_RELIC_KEY_PARTS.join('\n'),
      NEW_RELIC_METRIC_API_URL: newRelic.metricApiUrl,
      SPLUNK_HEC_URL: hec.url,
      SPLUNK_HEC_TOKEN: HEC_TOKEN,
    });
  });
  after(async () => {
    await vigil.close();
    await Promise.all([datadog.close(), newRelic.close(), hec.stop()]);
  });

  test('failing requests are logged, and a refused batch dead-lettered, with the credentials they quote redacted', async () => {
    // Answers quoting the Authorization header, as some proxies and gateways in front of HEC do: a refused
    // token (logged, retried) and then refused data (dead-lettered).
    hec.faults.push({ status: 401, code: 3, text: `Invalid authorization: Splunk ${HEC_TOKEN}` });
    hec.faults.push({ status: 400, code: 6, text: `Invalid data format (request sent with Splunk ${HEC_TOKEN})` });
    const metrics = await postJson(`${vigil.url}/ingest/metrics`, { metrics: [{ name: 'redaction.check', value: 1 }] }, ingest);
    assert.equal(metrics.status, 202);
    const logs = await postJson(`${vigil.url}/ingest/logs`, { logs: [{ message: 'refused by HEC' }] }, ingest);
    assert.equal(logs.status, 202);

    const failing = (destination: string) => vigil.logs.lines.filter((line) => line.includes(`Delivery to ${destination} failing`));
    const refusedCredentials = () => vigil.logs.lines.filter((line) => line.includes("splunk refused Vigil's credentials or settings (HTTP 401)"));
    await waitFor('the Datadog and New Relic failures logged', () => failing('datadog').length > 0 && failing('newrelic').length > 0);
    await waitFor('the refused HEC token logged', () => refusedCredentials().length > 0);
    const deadLetters = async () => getJson(`${vigil.url}/admin/dead-letters?destination=splunk`, admin);
    await waitFor('the Splunk dead letter', async () => ((await deadLetters()).body['total'] as number) === 1);

    const datadogFailure = JSON.parse(failing('datadog')[0]!) as { detail: string };
    assert.match(datadogFailure.detail, /includes credentials: http:\/\/\[redacted\]@127\.0\.0\.1:\d+\/api\//);
    const newRelicFailure = JSON.parse(failing('newrelic')[0]!) as { detail: string };
    assert.match(newRelicFailure.detail, /"\[redacted\]" is an invalid header value/);
    const listing = await deadLetters();
    const items = listing.body['items'] as Array<{ detail: string; status: number }>;
    assert.equal(items[0]!.status, 400, 'the refused token was retried, not dead-lettered');
    assert.equal(items[0]!.detail, 'HEC answered 400, code 6: Invalid data format (request sent with Splunk [redacted])');
    const refusal = JSON.parse(refusedCredentials()[0]!) as { detail: string; status: number; destination: string };
    assert.deepEqual(
      { destination: refusal.destination, status: refusal.status, detail: refusal.detail },
      { destination: 'splunk', status: 401, detail: 'HEC answered 401, code 3: Invalid authorization: Splunk [redacted]' },
    );

    assertNoSecret(vigil.logs.text, 'the log');
    assertNoSecret(listing.text, 'GET /admin/dead-letters');
    assertNoSecret(await metricsText(vigil.url), '/metrics');
  });
});
