import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Clock } from '../common/clock.js';
import { HttpExceptionWithHeaders } from '../common/error.filter.js';
import { VigilMetrics } from '../common/vigil.metrics.js';
import type { IngestLogRepository } from '../ingest-log/ingest-log.repository.js';
import type { NewLogEntry } from '../ingest-log/log-entry.js';
import { IngestLogSignal } from '../ingest-log/log-consumers.js';
import { GroupCommitter } from './group-committer.js';

/** A log whose appends commit whatever was appended, counting entries. */
function committer(): { committer: GroupCommitter; committed: () => number } {
  let committed = 0;
  const log = {
    appendCommitted: (entries: readonly NewLogEntry[]) => {
      committed += entries.length;
      return Promise.resolve(undefined);
    },
    committed: () => undefined,
  } as unknown as IngestLogRepository;
  return { committer: new GroupCommitter(log, new IngestLogSignal(), new VigilMetrics(), new Clock()), committed: () => committed };
}

const entries = (count: number): NewLogEntry[] => Array.from({ length: count }, () => ({ kind: 'metric', eventTime: 0, userId: null, item: { name: 'm', value: 1, type: 'gauge', timestamp: 0, tags: {} } }));

describe('GroupCommitter', () => {
  test('one request larger than the waiting bound is admitted when nothing waits; more on top of it answers 503', async () => {
    const { committer: group, committed } = committer();
    const large = group.append(entries(250_000));
    await assert.rejects(group.append(entries(1)), (error: unknown) => error instanceof HttpExceptionWithHeaders && error.getStatus() === 503 && error.headers['retry-after'] === '1');
    await large;
    assert.equal(committed(), 250_000);
    await group.append(entries(1));
    assert.equal(committed(), 250_001);
  });
});
