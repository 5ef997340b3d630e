import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Writable } from 'node:stream';
import { loadConfig } from '../../src/config/app.config.js';
import type { GroupCommitter } from '../../src/ingest/group-committer.js';
import { IngestHooks } from '../../src/ingest/ingest-hooks.js';
import type { LogItem } from '../../src/ingest-log/ingest-log.items.js';
import { loggingOptions } from '../../src/logging.options.js';
import { OwnLogBuffer } from '../../src/logs/own-logs/own-log.buffer.js';
import { OwnLogShipper } from '../../src/logs/own-logs/own-log.shipper.js';
import { ownLogItem, ownLogShippingStream } from '../../src/logs/own-logs/own-log.stream.js';
import type { NewLogEntry } from '../../src/ingest-log/log-entry.js';
import { VigilMetrics } from '../../src/common/vigil.metrics.js';
import { captureNestLogs } from '../support/nest-logs.js';

const line = (fields: Record<string, unknown>) => JSON.stringify({ level: 30, time: 1_767_225_600_000, pid: 1, hostname: 'h', service: 'vigil', environment: 'e', msg: 'm', ...fields });

describe('own log lines', () => {
  test('info and above are shipped as service vigil, with the rest as attributes', () => {
    assert.deepEqual(ownLogItem(line({ level: 40, msg: 'slow commit', context: 'Retention', request_id: 'req-1', deleted: 3 })), {
      message: 'slow commit',
      level: 'warn',
      timestamp: 1_767_225_600_000,
      service: 'vigil',
      requestId: 'req-1',
      attributes: { pid: 1, hostname: 'h', context: 'Retention', deleted: 3 },
    });
    assert.equal(ownLogItem(line({ level: 30 }))?.level, 'info');
    assert.equal(ownLogItem(line({ level: 50 }))?.level, 'error');
    assert.equal(ownLogItem(line({ level: 60 }))?.level, 'fatal');
    assert.equal(ownLogItem(line({ level: 20 })), null, 'debug is not shipped');
    assert.equal(ownLogItem(line({ level: 10 })), null, 'trace is not shipped');
  });

  test('lines about shipping are never shipped: delivery core, destinations, the shipper, or shipping:false', () => {
    for (const context of ['Delivery', 'Delivery:elasticsearch', 'Delivery:splunk', 'ElasticsearchDestination', 'SplunkDestination', 'OwnLogShipper']) {
      assert.equal(ownLogItem(line({ level: 50, context })), null, context);
    }
    assert.equal(ownLogItem(line({ level: 50, shipping: false })), null);
    assert.notEqual(ownLogItem(line({ level: 50, context: 'DerivedStateRunner' })), null);
  });

  test('an error line without a message takes the error’s; oversize attributes are replaced; junk is ignored', () => {
    assert.equal(ownLogItem(line({ level: 50, msg: undefined, err: { type: 'Error', message: 'disk full', stack: 'Error: disk full' } }))?.message, 'disk full');
    const huge = ownLogItem(line({ context: 'X', blob: 'x'.repeat(20_000) }));
    assert.deepEqual(huge?.attributes, { context: 'X', attributes_dropped: 'larger than 16384 bytes' });
    assert.equal(ownLogItem('not json'), null);
    assert.equal(ownLogItem('[1,2]'), null);
  });

  test('the stream writes every line through and buffers the shippable ones; the buffer is bounded and counts drops', () => {
    const written: string[] = [];
    const buffer = new OwnLogBuffer(true, 2);
    const stream = ownLogShippingStream({ write: (text: string) => void written.push(text) }, buffer);
    stream.write(`${line({ msg: 'a' })}\n`);
    stream.write(`${line({ msg: 'b', level: 20 })}\n`);
    stream.write(`${line({ msg: 'c', context: 'Delivery:splunk' })}\n`);
    stream.write(`${line({ msg: 'd' })}\n`);
    stream.write(`${line({ msg: 'e' })}\n`);
    assert.equal(written.length, 5);
    assert.equal(buffer.size, 2);
    assert.equal(buffer.dropped, 1);
    assert.deepEqual(buffer.take(10).map((item) => item.message), ['a', 'd']);
  });

  test('loggingOptions tees into the buffer only when shipping is on', () => {
    const sink = new Writable({ write: (_chunk, _encoding, done) => done() });
    const on = new OwnLogBuffer(true);
    const withShipping = loggingOptions(loadConfig({ VIGIL_SHIP_OWN_LOGS: 'true' }), sink, on);
    assert.notEqual(withShipping.stream, sink);
    const off = new OwnLogBuffer(false);
    const without = loggingOptions(loadConfig({}), sink, off);
    assert.equal(without.stream, sink);
  });
});

describe('OwnLogShipper', () => {
  const item = (message: string): LogItem => ({ message, level: 'info', timestamp: 1, service: 'vigil' });
  const config = (env: Record<string, string>) => loadConfig(env);

  test('appends waiting lines as kind log in batches through the group committer', async () => {
    const appended: NewLogEntry[][] = [];
    const committer = { append: async (entries: NewLogEntry[]) => void appended.push(entries) } as unknown as GroupCommitter;
    const buffer = new OwnLogBuffer(true);
    const shipper = new OwnLogShipper(config({ VIGIL_SHIP_OWN_LOGS: 'true', ELASTICSEARCH_URL: 'http://es:9200' }), buffer, committer, new IngestHooks(), new VigilMetrics());
    for (let index = 0; index < 2500; index++) buffer.offer(item(`line ${index}`));
    await shipper.flush();
    assert.deepEqual(appended.map((entries) => entries.length), [1000, 1000, 500]);
    assert.deepEqual(appended[0]![0], { kind: 'log', eventTime: 1, userId: null, item: item('line 0') });
    assert.equal(buffer.size, 0);
  });

  test('a failed append drops those lines, counts them, logs it, and is not retried', async (t) => {
    const logs = captureNestLogs();
    t.after(() => logs.restore());
    const committer = { append: async () => Promise.reject(new Error('Vigil is shutting down')) } as unknown as GroupCommitter;
    const buffer = new OwnLogBuffer(true);
    const metrics = new VigilMetrics();
    const shipper = new OwnLogShipper(config({ VIGIL_SHIP_OWN_LOGS: 'true', ELASTICSEARCH_URL: 'http://es:9200' }), buffer, committer, new IngestHooks(), metrics);
    for (let index = 0; index < 3; index++) buffer.offer(item(`line ${index}`));
    await shipper.flush();
    assert.equal(buffer.dropped, 3);
    assert.match(await metrics.registry.metrics(), /vigil_own_log_lines_total\{outcome="dropped"\} 3/);
    assert.deepEqual(logs.text, ['WARN [OwnLogShipper] Own log lines dropped: appending them failed (Vigil is shutting down)']);
  });

  test('while ingest of logs is refused (a full queue), own lines are dropped, not appended', async (t) => {
    const logs = captureNestLogs();
    t.after(() => logs.restore());
    let appended = 0;
    const committer = { append: async (entries: NewLogEntry[]) => void (appended += entries.length) } as unknown as GroupCommitter;
    const hooks = new IngestHooks();
    let full = true;
    hooks.addAdmissionCheck((kind) => (kind === 'log' && full ? { reason: 'The delivery queue for elasticsearch is full', retryAfterSeconds: 5 } : null));
    const buffer = new OwnLogBuffer(true);
    const shipper = new OwnLogShipper(config({ VIGIL_SHIP_OWN_LOGS: 'true', ELASTICSEARCH_URL: 'http://es:9200' }), buffer, committer, hooks, new VigilMetrics());
    buffer.offer(item('a'));
    buffer.offer(item('b'));
    await shipper.flush();
    assert.equal(appended, 0);
    assert.equal(buffer.dropped, 2);
    full = false;
    buffer.offer(item('c'));
    await shipper.flush();
    assert.equal(appended, 1);
    assert.deepEqual(logs.text, [
      'WARN [OwnLogShipper] Own log lines dropped: appending them failed (The delivery queue for elasticsearch is full)',
      'LOG [OwnLogShipper] Own log lines are appended again',
    ]);
  });

  test('without a log destination it stops collecting, and warns', (t) => {
    const logs = captureNestLogs();
    t.after(() => logs.restore());
    const buffer = new OwnLogBuffer(true);
    const shipper = new OwnLogShipper(config({ VIGIL_SHIP_OWN_LOGS: 'true' }), buffer, {} as GroupCommitter, new IngestHooks(), new VigilMetrics());
    shipper.onApplicationBootstrap();
    assert.equal(buffer.collecting, false);
    assert.deepEqual(logs.text, ['WARN [OwnLogShipper] VIGIL_SHIP_OWN_LOGS is on but no log destination (Elasticsearch, Splunk) is configured: own logs are not shipped']);
  });
});
