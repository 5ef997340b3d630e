import assert from 'node:assert/strict';
import { setTimeout as delay } from 'node:timers/promises';
import { after, before, describe, test } from 'node:test';
import { sqliteDatabase } from '../support/databases.js';
import { postJson, startApp, type RunningApp } from '../support/app.js';
import { FakeSplunkHec } from '../fakes/splunk-hec.fake.js';
import { makeTestCertificates } from '../fakes/splunk-tls.js';

describe('Splunk TLS settings at startup', () => {
  const certificates = makeTestCertificates();
  const hec = new FakeSplunkHec({ tokens: ['startup-hec-token'], tls: { key: certificates.key, cert: certificates.cert } });
  let vigil: RunningApp;
  before(async () => {
    await hec.start();
    vigil = await startApp({
      DATABASE_URL: sqliteDatabase().url,
      VIGIL_INGEST_KEYS: 'ingest-key-0123456789',
      SPLUNK_HEC_URL: hec.url,
      SPLUNK_HEC_TOKEN: 'startup-hec-token',
      SPLUNK_TLS_VERIFY: 'false',
      VIGIL_DELIVERY_FLUSH_INTERVAL_MS: '50',
    });
  });
  after(async () => {
    await vigil.close();
    await hec.stop();
  });

  test('SPLUNK_TLS_VERIFY=false logs exactly one warning, never the token, and then ships to an untrusted certificate', async () => {
    const warnings = vigil.logs.lines.filter((line) => line.includes('SPLUNK_TLS_VERIFY=false'));
    assert.equal(warnings.length, 1);
    assert.equal((JSON.parse(warnings[0]!) as { level: number }).level, 40);
    const response = await postJson(`${vigil.url}/ingest/logs`, { logs: [{ message: 'over unverified TLS' }] }, { authorization: 'Bearer ingest-key-0123456789' });
    assert.equal(response.status, 202);
    const deadline = Date.now() + 15_000;
    while (hec.events.length === 0 && Date.now() < deadline) await delay(50);
    assert.equal((hec.events[0]?.['event'] as { message?: string } | undefined)?.message, 'over unverified TLS');
    assert.equal(vigil.logs.text.includes('startup-hec-token'), false);
  });

  test('an unreadable SPLUNK_CA_FILE stops the start with a message naming it', async () => {
    await assert.rejects(
      startApp({ DATABASE_URL: sqliteDatabase().url, SPLUNK_HEC_URL: hec.url, SPLUNK_HEC_TOKEN: 't', SPLUNK_CA_FILE: `${certificates.directory}/absent.pem` }),
      /SPLUNK_CA_FILE .*absent\.pem cannot be read/,
    );
  });
});
