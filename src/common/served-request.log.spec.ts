import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ServedRequestLog, type AnsweredRequest, type RequestLogSink } from './served-request.log.js';

class RecordingSink implements RequestLogSink {
  readonly lines: Array<{ level: string; fields: Record<string, unknown>; message: string }> = [];
  constructor(private readonly enabled: readonly string[] = ['warn', 'error']) {}
  isLevelEnabled(level: string): boolean {
    return this.enabled.includes(level);
  }
  debug(fields: object, message: string): void {
    this.lines.push({ level: 'debug', fields: fields as Record<string, unknown>, message });
  }
  warn(fields: object, message: string): void {
    this.lines.push({ level: 'warn', fields: fields as Record<string, unknown>, message });
  }
  error(fields: object, message: string): void {
    this.lines.push({ level: 'error', fields: fields as Record<string, unknown>, message });
  }
}

const request = (statusCode: number, index: number, route = '/ingest/metrics'): AnsweredRequest => ({
  requestId: `r${index}`,
  method: 'POST',
  route,
  statusCode,
  durationMs: 0.123,
});
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('ServedRequestLog', () => {
  test('the first failure is written at once; a flood within the interval becomes one line per status and route', async () => {
    const sink = new RecordingSink();
    const log = new ServedRequestLog(sink, 50);
    log.record(request(401, 0));
    assert.deepEqual([...sink.lines], [
      { level: 'warn', message: 'request completed', fields: { request_id: 'r0', method: 'POST', route: '/ingest/metrics', status_code: 401, duration_ms: 0.12 } },
    ]);
    for (let index = 1; index <= 1000; index++) log.record(request(index % 2 === 0 ? 401 : 503, index));
    log.record(request(200, 1001));
    assert.equal(sink.lines.length, 1, 'nothing more is written within the interval');
    await sleep(80);
    assert.deepEqual(
      sink.lines.slice(1).map(({ level, message, fields }) => [level, message, fields['count'], fields['request_id']]),
      [
        ['error', '500 requests completed with status 503', 500, 'r1'],
        ['warn', '500 requests completed with status 401', 500, 'r2'],
      ],
    );
    await sleep(80);
    log.record(request(404, 2000, '/sla/status/:service'));
    assert.equal(sink.lines.length, 4, 'after a quiet interval a failure is written at once again');
    assert.equal(sink.lines[3]!.message, 'request completed');
  });

  test('groups are bounded: routes beyond 50 are counted together; flush writes what is pending', () => {
    const sink = new RecordingSink();
    const log = new ServedRequestLog(sink, 60_000);
    log.record(request(404, 0, '/first'));
    for (let index = 0; index < 70; index++) log.record(request(404, index, `/route-${index}`));
    log.flush();
    assert.equal(sink.lines.length, 1 + 50 + 1);
    const overflow = sink.lines.at(-1)!;
    assert.deepEqual([overflow.fields['route'], overflow.fields['count']], ['other routes', 20]);
  });

  test('successes are debug lines, written only when debug is on; disabled levels cost nothing', () => {
    const quiet = new RecordingSink([]);
    const quietLog = new ServedRequestLog(quiet, 60_000);
    quietLog.record(request(200, 0));
    quietLog.record(request(500, 1));
    quietLog.flush();
    assert.deepEqual(quiet.lines, []);
    const verbose = new RecordingSink(['debug', 'warn', 'error']);
    new ServedRequestLog(verbose, 60_000).record(request(202, 0));
    assert.deepEqual(verbose.lines.map(({ level, message }) => [level, message]), [['debug', 'request completed']]);
  });
});
