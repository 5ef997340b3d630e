import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { datadogPlugin } from '../apm/datadog/datadog.plugin.js';
import { newRelicPlugin } from '../apm/newrelic/newrelic.plugin.js';
import { settingsOf } from '../delivery/destination.plugin.js';
import { elasticsearchPlugin } from '../logs/elasticsearch/elasticsearch.plugin.js';
import { splunkPlugin } from '../logs/splunk/splunk.plugin.js';
import { ConfigurationError, loadConfig, secretsOf, type AppConfig } from './app.config.js';

const datadogOf = (config: AppConfig) => settingsOf(datadogPlugin, config);
const newRelicOf = (config: AppConfig) => settingsOf(newRelicPlugin, config);
const elasticsearchOf = (config: AppConfig) => settingsOf(elasticsearchPlugin, config);
const splunkOf = (config: AppConfig) => settingsOf(splunkPlugin, config);

describe('loadConfig', () => {
  test('defaults: port 8080, SQLite at ./data/vigil.db, protected mode on loopback, no destinations', () => {
    const config = loadConfig({});
    assert.equal(config.http.port, 8080);
    assert.equal(config.http.host, '127.0.0.1');
    assert.equal(config.auth.protectedMode, true);
    assert.deepEqual(config.database, { url: 'sqlite:./data/vigil.db', dialect: 'sqlite', sqlitePath: './data/vigil.db', sqliteCacheBytes: 64 * 1024 * 1024 });
    assert.equal(config.http.maxBodyBytes, 5_242_880);
    assert.equal(config.http.maxBatch, 10_000);
    assert.equal(config.environment, 'production');
    assert.equal(datadogOf(config), null);
    assert.equal(config.delivery.queueFullPolicy, 'block');
    assert.equal(config.rateLimit.maxPerWindow, 0);
  });

  test('series eviction: idle times default to 3600 s (anomalies) and 60 s or the TTL (re-exposition), which bounds the latter', () => {
    assert.equal(loadConfig({}).anomalies.seriesIdleSeconds, 3600);
    assert.equal(loadConfig({ VIGIL_ANOMALY_SERIES_IDLE_SECONDS: '0' }).anomalies.seriesIdleSeconds, 0);
    assert.equal(loadConfig({}).metrics.seriesMinIdleSeconds, 60);
    assert.equal(loadConfig({ VIGIL_METRICS_SERIES_TTL_SECONDS: '30' }).metrics.seriesMinIdleSeconds, 30);
    assert.equal(loadConfig({ VIGIL_METRICS_SERIES_MIN_IDLE_SECONDS: '600' }).metrics.seriesMinIdleSeconds, 600);
    assert.throws(
      () => loadConfig({ VIGIL_METRICS_SERIES_MIN_IDLE_SECONDS: '601' }),
      (error: unknown) =>
        error instanceof ConfigurationError &&
        error.problems.length === 1 &&
        error.problems[0] === 'VIGIL_METRICS_SERIES_MIN_IDLE_SECONDS must not be greater than VIGIL_METRICS_SERIES_TTL_SECONDS',
    );
    assert.throws(() => loadConfig({ VIGIL_ANOMALY_SERIES_IDLE_SECONDS: '-1' }), ConfigurationError);
  });

  test('anomaly method: novelty by default, one of four, anything else refused', () => {
    assert.equal(loadConfig({}).anomalies.method, 'novelty');
    assert.equal(loadConfig({ VIGIL_ANOMALY_METHOD: 'likelihood' }).anomalies.method, 'likelihood');
    assert.equal(loadConfig({ VIGIL_ANOMALY_METHOD: 'isolation_forest' }).anomalies.method, 'isolation_forest');
    assert.equal(loadConfig({ VIGIL_ANOMALY_METHOD: 'ensemble' }).anomalies.method, 'ensemble');
    assert.equal(loadConfig({ VIGIL_ANOMALY_METHOD: 'novelty' }).anomalies.method, 'novelty');
    assert.throws(() => loadConfig({ VIGIL_ANOMALY_METHOD: 'forest' }), ConfigurationError);
  });

  test('any key binds 0.0.0.0; admin keys are listed; HOST overrides', () => {
    const config = loadConfig({ VIGIL_ADMIN_KEYS: ' a1 , a2 ,', VIGIL_READ_KEYS: 'r1' });
    assert.equal(config.http.host, '0.0.0.0');
    assert.deepEqual(config.auth.adminKeys, ['a1', 'a2']);
    assert.equal(loadConfig({ VIGIL_READ_KEYS: 'r1', HOST: '10.0.0.5' }).http.host, '10.0.0.5');
  });

  test('one error lists every bad variable and never echoes a value', () => {
    let error: unknown;
    try {
      loadConfig({
        PORT: '99999',
        DATABASE_URL: 'mysql://x',
        VIGIL_MAX_BATCH: 'lots',
        LOG_LEVEL: 'chatty',
        NEW_RELIC_REGION: 'mars',
        DATADOG_API_URL: 'not a url secret-value-123',
        SPLUNK_TLS_VERIFY: 'maybe',
      });
    } catch (caught) {
      error = caught;
    }
    assert.ok(error instanceof ConfigurationError);
    const names = ['PORT', 'DATABASE_URL', 'VIGIL_MAX_BATCH', 'LOG_LEVEL', 'NEW_RELIC_REGION', 'DATADOG_API_URL', 'SPLUNK_TLS_VERIFY'];
    assert.equal(error.problems.length, names.length, error.message);
    for (const name of names) assert.ok(error.message.includes(name), `${name} missing from: ${error.message}`);
    assert.ok(!error.message.includes('secret-value-123'));
  });

  test('destinations turn on with their credentials; URLs derive from region, site and host/port', () => {
    const config = loadConfig({
      DATADOG_API_KEY: 'dd',
      NEW_RELIC_LICENSE_KEY: 'nr',
      NEW_RELIC_ACCOUNT_ID: '42',
      NEW_RELIC_REGION: 'eu',
      ELASTICSEARCH_HOST: 'es',
      SPLUNK_HOST: 'splunk',
      SPLUNK_HEC_TOKEN: 'tok',
    });
    assert.equal(datadogOf(config)?.site, 'datadoghq.com');
    assert.equal(newRelicOf(config)?.metricApiUrl, 'https://metric-api.eu.newrelic.com/metric/v1');
    assert.equal(newRelicOf(config)?.eventApiUrl, 'https://insights-collector.eu01.nr-data.net/v1/accounts/42/events');
    assert.equal(elasticsearchOf(config)?.url, 'http://es:9200');
    const us = loadConfig({ NEW_RELIC_LICENSE_KEY: 'nr', NEW_RELIC_ACCOUNT_ID: '42' });
    assert.equal(newRelicOf(us)?.metricApiUrl, 'https://metric-api.newrelic.com/metric/v1');
    assert.equal(newRelicOf(us)?.eventApiUrl, 'https://insights-collector.newrelic.com/v1/accounts/42/events');
    assert.equal(elasticsearchOf(config)?.indexPrefix, 'vigil-logs');
    assert.equal(splunkOf(config)?.url, 'https://splunk:8088');
    assert.equal(splunkOf(config)?.tlsVerify, true);
    assert.deepEqual(secretsOf(config).sort(), ['dd', 'nr', 'tok']);
  });

  test('the SLA targets file is read with the variables, and its problems are listed with theirs', () => {
    const directory = mkdtempSync(join(tmpdir(), 'vigil-config-'));
    const good = join(directory, 'targets.yml');
    writeFileSync(good, 'targets:\n  checkout:\n    p95Ms: 300\n    p99Ms: 800\n    availabilityPercent: 99.5\n    errorRatePercent: 1\n  cache: null\n');
    const file = loadConfig({ VIGIL_SLA_TARGETS_FILE: good }).sla.file;
    assert.deepEqual(file?.targets.map((target) => [target.service, target.p95Ms]), [['checkout', 300]]);
    assert.deepEqual(file?.removed, ['cache']);
    const bad = join(directory, 'bad.yml');
    writeFileSync(bad, 'targets:\n  api:\n    p95Ms: fast\n    p99Ms: 10\n    availabilityPercent: 99\n    errorRatePercent: 1\n');
    assert.throws(
      () => loadConfig({ VIGIL_SLA_TARGETS_FILE: bad, PORT: '99999' }),
      (error: unknown) =>
        error instanceof ConfigurationError &&
        // One problem for PORT, one for p95Ms (its type; not also its range).
        error.problems.length === 2 &&
        error.problems.some((problem) => problem.includes('PORT')) &&
        error.problems.includes(`VIGIL_SLA_TARGETS_FILE ${bad}: targets.api.p95Ms must be a finite number`),
    );
    assert.throws(() => loadConfig({ VIGIL_SLA_TARGETS_FILE: join(directory, 'missing.yml') }), /VIGIL_SLA_TARGETS_FILE .*missing\.yml: cannot be read/);
  });

  test('true/false variables mean the same written as 1/0', () => {
    const splunk = { SPLUNK_HOST: 'splunk', SPLUNK_HEC_TOKEN: 'tok' };
    assert.equal(splunkOf(loadConfig({ ...splunk, SPLUNK_TLS_VERIFY: '0', VIGIL_SHIP_OWN_LOGS: '1' }))?.tlsVerify, false);
    assert.equal(loadConfig({ ...splunk, SPLUNK_TLS_VERIFY: '0', VIGIL_SHIP_OWN_LOGS: '1' }).shipOwnLogs, true);
    assert.equal(splunkOf(loadConfig({ ...splunk, SPLUNK_TLS_VERIFY: 'false', VIGIL_SHIP_OWN_LOGS: 'true' }))?.tlsVerify, false);
    assert.equal(loadConfig({ ...splunk, SPLUNK_TLS_VERIFY: '1', VIGIL_SHIP_OWN_LOGS: '0' }).shipOwnLogs, false);
    assert.equal(splunkOf(loadConfig({ ...splunk, SPLUNK_TLS_VERIFY: '1' }))?.tlsVerify, true);
    assert.equal(splunkOf(loadConfig(splunk))?.tlsVerify, true);
    assert.equal(loadConfig(splunk).shipOwnLogs, false);
  });

  test('per-destination queue bounds fall back to VIGIL_QUEUE_MAX_BYTES', () => {
    const config = loadConfig({ VIGIL_QUEUE_MAX_BYTES: '2048', VIGIL_QUEUE_MAX_BYTES_SPLUNK: '4096' });
    assert.deepEqual(config.delivery.queueMaxBytes, { datadog: 2048, newrelic: 2048, elasticsearch: 2048, splunk: 4096 });
  });
});
