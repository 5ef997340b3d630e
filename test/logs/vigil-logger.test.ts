import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Logger } from '@nestjs/common';
import { requestContext } from '../../src/common/request-context.js';
import { VigilLogger } from '../../src/common/vigil-logger.js';
import { loadConfig } from '../../src/config/app.config.js';
import { createRootLogger } from '../../src/logging.options.js';
import { LogCapture } from '../support/app.js';

function makeLogger(level = 'info') {
  const capture = new LogCapture();
  const logger = new VigilLogger(createRootLogger(loadConfig({ LOG_LEVEL: level }), capture));
  const records = () => capture.lines.map((line) => JSON.parse(line) as Record<string, unknown>);
  return { capture, logger, records };
}

describe('VigilLogger (Nest LoggerService on pino)', () => {
  test("Nest's levels map onto pino's, below the configured level nothing is written", () => {
    const { logger, records } = makeLogger('debug');
    logger.verbose('v', 'Ctx');
    logger.debug('d', 'Ctx');
    logger.log('l', 'Ctx');
    logger.warn('w', 'Ctx');
    logger.error('e', undefined, 'Ctx');
    logger.fatal('f', 'Ctx');
    assert.deepEqual(
      records().map((record) => [record['level'], record['msg'], record['context']]),
      [
        [20, 'd', 'Ctx'],
        [30, 'l', 'Ctx'],
        [40, 'w', 'Ctx'],
        [50, 'e', 'Ctx'],
        [60, 'f', 'Ctx'],
      ],
    );
    for (const record of records()) {
      assert.equal(record['service'], 'vigil');
      assert.equal(typeof record['time'], 'number');
    }
  });

  test("a Nest Logger's lines carry its context; a first object is merged, an Error becomes err", (t) => {
    const { logger, records } = makeLogger();
    const previous = (Logger as unknown as { staticInstanceRef: VigilLogger }).staticInstanceRef;
    Logger.overrideLogger(logger);
    t.after(() => Logger.overrideLogger(previous));
    const nest = new Logger('Retention');
    nest.log({ deleted: { log: 3 } }, 'Retention deleted expired rows');
    nest.error({ err: new Error('disk full') }, 'Retention run failed');
    nest.warn(new Error('bare error'));
    nest.error('plain message');
    const [merged, withErr, bare, plain] = records();
    assert.deepEqual({ context: merged!['context'], deleted: merged!['deleted'], msg: merged!['msg'] }, { context: 'Retention', deleted: { log: 3 }, msg: 'Retention deleted expired rows' });
    assert.equal((withErr!['err'] as { message: string }).message, 'disk full');
    assert.match((withErr!['err'] as { stack: string }).stack, /disk full\n\s+at /);
    assert.equal(withErr!['msg'], 'Retention run failed');
    assert.equal((bare!['err'] as { message: string }).message, 'bare error');
    assert.deepEqual([plain!['level'], plain!['msg'], plain!['context']], [50, 'plain message', 'Retention']);
  });

  test("Nest's exception handlers' error(message, stack, context) becomes an err with that stack", () => {
    const { logger, records } = makeLogger();
    logger.error('boom', 'Error: boom\n    at somewhere (file.js:1:1)', 'ExceptionsHandler');
    const [record] = records();
    assert.equal(record!['context'], 'ExceptionsHandler');
    assert.deepEqual({ message: (record!['err'] as { message: string }).message, stack: (record!['err'] as { stack: string }).stack }, { message: 'boom', stack: 'Error: boom\n    at somewhere (file.js:1:1)' });
  });

  test('lines written while serving a request carry its id; credentials are redacted', () => {
    const { logger, records, capture } = makeLogger();
    requestContext.run({ requestId: 'req-7' }, () =>
      logger.warn({ headers: { authorization: 'Bearer secret-key-1', 'x-api-key': 'secret-key-2' }, config: { token: 'secret-key-3', apiKey: 'secret-key-4' } }, 'with credentials', 'Ctx'),
    );
    logger.log('outside', 'Ctx');
    const [inside, outside] = records();
    assert.equal(inside!['request_id'], 'req-7');
    assert.equal('request_id' in outside!, false);
    assert.deepEqual(inside!['headers'], { authorization: '[redacted]', 'x-api-key': '[redacted]' });
    assert.deepEqual(inside!['config'], { token: '[redacted]', apiKey: '[redacted]' });
    assert.equal(/secret-key/.test(capture.text), false);
  });
});
