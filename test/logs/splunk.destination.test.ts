import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ManualClock } from '../../src/common/clock.js';
import type { SplunkConfig } from '../../src/logs/splunk/splunk.plugin.js';
import { SplunkDestination } from '../../src/logs/splunk/splunk.destination.js';
import { HecClient, SplunkTlsConfigurationError, createHecAgent } from '../../src/logs/splunk/splunk.transport.js';
import { FakeSplunkHec, HEC_ANSWERS } from '../fakes/splunk-hec.fake.js';
import { makeTestCertificates, type TestCertificates } from '../fakes/splunk-tls.js';
import { logEntries } from './log-entries.js';

const clock = new ManualClock(Date.UTC(2026, 0, 1, 12));
const signal = new AbortController().signal;

function destinationFor(config: SplunkConfig): SplunkDestination {
  return new SplunkDestination(config, 'test-env', new HecClient(config, config.token, createHecAgent(config)), clock, 'vigil-host');
}

describe('Splunk destination over plain HTTP', () => {
  const hec = new FakeSplunkHec({ tokens: ['good-token'], disabledTokens: ['old-token'], allowedIndexes: ['main', 'app'] });
  let url: string;
  before(async () => {
    url = await hec.start();
  });
  after(() => hec.stop());

  test('a batch arrives as events with time, host, source, sourcetype, index and the log fields', async () => {
    const destination = destinationFor({ url, token: 'good-token', index: 'app', tlsVerify: true });
    const entries = logEntries(3, 1, Date.UTC(2026, 0, 1, 12, 0, 0, 250));
    assert.deepEqual(await destination.send(entries, signal), { outcome: 'delivered' });
    assert.equal(hec.events.length, 3);
    assert.deepEqual(hec.events[0], {
      time: Date.UTC(2026, 0, 1, 12, 0, 0, 250) / 1000,
      host: 'vigil-host',
      source: 'api',
      sourcetype: '_json',
      index: 'app',
      event: { message: 'line 1', level: 'info', service: 'api', environment: 'test-env', user_id: null, request_id: null, trace_id: null, duration_ms: null, attributes: {} },
    });
    const headers = hec.requestHeaders.at(-1)!;
    assert.equal(headers['authorization'], 'Splunk good-token');
    assert.equal(headers['content-encoding'], 'gzip');
    assert.match(String(headers['x-splunk-request-channel']), /^[0-9a-f-]{36}$/);
    destination.close();
  });

  test('token and index problems are retried as configuration; busy is retryable; nothing is accepted meanwhile', async () => {
    const accepted = hec.events.length;
    const send = (config: Partial<SplunkConfig>) => {
      const destination = destinationFor({ url, token: 'good-token', tlsVerify: true, ...config });
      return destination.send(logEntries(2), signal).finally(() => destination.close());
    };
    assert.deepEqual(await send({ token: 'wrong-token' }), { outcome: 'retryable', reason: 'HEC answered 403, code 4: Invalid token', status: 403, cause: 'configuration' });
    assert.deepEqual(await send({ token: 'old-token' }), { outcome: 'retryable', reason: 'HEC answered 403, code 1: Token disabled', status: 403, cause: 'configuration' });
    assert.deepEqual(await send({ index: 'secret' }), {
      outcome: 'retryable',
      reason: 'HEC answered 400, code 7: Incorrect index (invalid-event-number 0)',
      status: 400,
      cause: 'configuration',
    });
    hec.faults.push(HEC_ANSWERS.serverBusy);
    assert.deepEqual(await send({}), { outcome: 'retryable', reason: 'HEC answered 503, code 9: Server is busy', status: 503 });
    hec.faults.push({ ...HEC_ANSWERS.serverBusy, headers: { 'retry-after': '5' } });
    assert.equal((await send({})).outcome, 'throttled');
    assert.equal(hec.events.length, accepted);
    assert.deepEqual(await send({}), { outcome: 'delivered' });
    assert.equal(hec.events.length, accepted + 2);
  });

  test('connection refused is retryable, an abort throws', async () => {
    const down = destinationFor({ url: 'http://127.0.0.1:1', token: 't', tlsVerify: true });
    const result = await down.send(logEntries(1), signal);
    assert.equal(result.outcome, 'retryable');
    assert.match((result as { reason: string }).reason, /ECONNREFUSED/);
    down.close();
    const controller = new AbortController();
    controller.abort();
    const destination = destinationFor({ url, token: 'good-token', tlsVerify: true });
    await assert.rejects(destination.send(logEntries(1), controller.signal));
    destination.close();
  });
});

describe('Splunk destination over HTTPS with a private CA', () => {
  let certificates: TestCertificates;
  let hec: FakeSplunkHec;
  let url: string;
  before(async () => {
    certificates = makeTestCertificates();
    hec = new FakeSplunkHec({ tokens: ['tls-token'], tls: { key: certificates.key, cert: certificates.cert } });
    url = await hec.start();
  });
  after(() => hec.stop());

  test('verification is on by default: a certificate from an unknown CA is refused, retryably, naming SPLUNK_CA_FILE', async () => {
    const destination = destinationFor({ url, token: 'tls-token', tlsVerify: true });
    const result = await destination.send(logEntries(1), signal);
    assert.equal(result.outcome, 'retryable');
    assert.match((result as { reason: string }).reason, /SPLUNK_CA_FILE/);
    assert.equal(hec.events.length, 0);
    destination.close();
  });

  test('SPLUNK_CA_FILE makes the private CA trusted', async () => {
    const destination = destinationFor({ url, token: 'tls-token', tlsVerify: true, caFile: certificates.caFile });
    assert.deepEqual(await destination.send(logEntries(2), signal), { outcome: 'delivered' });
    assert.equal(hec.events.length, 2);
    destination.close();
  });

  test('SPLUNK_TLS_VERIFY=false is the explicit opt-out', async () => {
    const destination = destinationFor({ url, token: 'tls-token', tlsVerify: false });
    assert.deepEqual(await destination.send(logEntries(1), signal), { outcome: 'delivered' });
    destination.close();
  });

  test('an unreadable or non-PEM CA file stops the start', () => {
    assert.throws(() => createHecAgent({ url, token: 't', tlsVerify: true, caFile: `${certificates.directory}/missing.pem` }), SplunkTlsConfigurationError);
    assert.throws(() => createHecAgent({ url, token: 't', tlsVerify: true, caFile: `${certificates.directory}/README.md` }), /holds no PEM certificate/);
  });
});
