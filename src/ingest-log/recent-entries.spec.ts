import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { AnyItem, IngestKind } from './ingest-log.items.js';
import type { NewLogEntry } from './log-entry.js';
import type { AppendedEntries } from './ingest-log.repository.js';
import { sharedPayloads } from './log-entry.js';
import { RECENT_ITEM_OVERHEAD_BYTES, RECENT_SLOT_BYTES, RecentEntries } from './recent-entries.js';

const KINDS: IngestKind[] = ['metric', 'log', 'request'];

/** An append of `count` entries from `firstId` whose payloads name their own id, so a read can be checked against it. */
function appended(firstId: number, count: number, receivedAt: number, generation: number): AppendedEntries {
  const entries = Array.from({ length: count }, (_, index) => ({
    kind: KINDS[(firstId + index) % KINDS.length]!,
    eventTime: 1000 + firstId + index,
    userId: null,
    // Items of any kind that name their id: only their identity matters here.
    item: { id: firstId + index } as unknown as AnyItem,
  })) as NewLogEntry[];
  return { firstId, entries, payloads: entries.map((entry) => JSON.stringify(entry.item)), receivedAt, generation };
}

/** What the store would answer, computed over the ids alone. */
function expected(first: number, last: number, after: number, upTo: number, kinds: readonly IngestKind[], limit: number) {
  const ids: number[] = [];
  for (let id = Math.max(first, after + 1); id <= Math.min(last, upTo) && ids.length < limit; id++) {
    if (kinds.includes(KINDS[id % KINDS.length]!)) ids.push(id);
  }
  return ids;
}

describe('RecentEntries', () => {
  before(() => (sharedPayloads.frozen = true));
  after(() => (sharedPayloads.frozen = false));

  test('answers any range it holds wholly, filtered by kind and limited, as the store would', () => {
    const recent = new RecentEntries(1000, 1_000_000);
    recent.add(appended(11, 30, 5, recent.generation));
    recent.add(appended(41, 20, 6, recent.generation));
    for (const [after, upTo, kinds, limit] of [
      [10, 60, ['metric'], 100],
      [10, 60, ['metric', 'log', 'request'], 7],
      [25, 44, ['log', 'request'], 100],
      [60, 60, ['metric'], 100],
      [40, 41, ['metric', 'log', 'request'], 1],
    ] as Array<[number, number, IngestKind[], number]>) {
      const read = recent.read(after, upTo, kinds, limit)!;
      assert.deepEqual(read.map((entry) => entry.id), expected(11, 60, after, upTo, kinds, limit), `${after}..${upTo} ${kinds.join()}`);
      for (const entry of read) {
        assert.deepEqual(entry.payload, { id: entry.id });
        assert.equal(entry.eventTime, 1000 + entry.id);
        assert.equal(entry.receivedAt, entry.id <= 40 ? 5 : 6);
        assert.equal(entry.bytes, JSON.stringify({ id: entry.id }).length);
      }
    }
    // Readers share one payload: under the tests' guard (sharedPayloads) none can change what another sees.
    const [first] = recent.read(10, 11, KINDS, 1)!;
    assert.ok(Object.isFrozen(first!.payload));
    assert.throws(() => {
      (first!.payload as unknown as { id: number }).id = 0;
    }, TypeError);
    assert.deepEqual(recent.read(10, 11, KINDS, 1)![0]!.payload, { id: 11 });
  });

  test('declines ranges that start before or end after what it holds', () => {
    const recent = new RecentEntries(1000, 1_000_000);
    assert.equal(recent.read(0, 0, KINDS, 10)?.length, undefined);
    recent.add(appended(11, 10, 5, recent.generation));
    assert.equal(recent.read(9, 15, KINDS, 10), undefined);
    assert.equal(recent.read(10, 21, KINDS, 10), undefined);
    assert.equal(recent.read(10, 20, KINDS, 100)?.length, 10);
  });

  test('an append it was not told about starts a new run, never a run with a hole', () => {
    const recent = new RecentEntries(1000, 1_000_000);
    recent.add(appended(1, 10, 5, recent.generation));
    // Ids 11 and 12 went to the store behind its back (an internal event).
    recent.add(appended(13, 5, 5, recent.generation));
    assert.equal(recent.size, 5);
    assert.equal(recent.read(10, 17, KINDS, 100), undefined);
    assert.deepEqual(recent.read(12, 17, KINDS, 100)!.map((entry) => entry.id), [13, 14, 15, 16, 17]);
  });

  test('forgets its oldest entries past either bound', () => {
    const byCount = new RecentEntries(50, 1_000_000);
    for (let first = 1; first <= 10_000; first += 100) byCount.add(appended(first, 100, 5, byCount.generation));
    assert.equal(byCount.size, 50);
    assert.equal(byCount.read(9949, 10_000, KINDS, 100), undefined);
    assert.deepEqual(byCount.read(9950, 10_000, KINDS, 100)!.map((entry) => entry.id), expected(9951, 10_000, 9950, 10_000, KINDS, 100));

    // 1000 slots of 40 bytes, then 20 items of 12 characters and 64 bytes of overhead: 41,520 bytes.
    const payloadLength = JSON.stringify({ id: 12345 }).length;
    assert.equal(payloadLength, 12);
    const byBytes = new RecentEntries(1000, 41_520);
    byBytes.add(appended(12_300, 100, 5, byBytes.generation));
    assert.equal(byBytes.size, 20);
    assert.equal(byBytes.bytes, 1000 * RECENT_SLOT_BYTES + 20 * (payloadLength + RECENT_ITEM_OVERHEAD_BYTES));
    assert.equal(byBytes.bytes, 41_520);
    const oneLess = new RecentEntries(1000, 41_519);
    oneLess.add(appended(12_300, 100, 5, oneLess.generation));
    assert.equal(oneLess.size, 19);
  });

  test('a window of a memory share: a slot per 200 bytes, small items bounded by the slots', () => {
    const window = RecentEntries.withinBytes(48 * 1024 * 1024);
    // 50,331,648 / 200 = 251,658 slots of 40 bytes, held or not.
    assert.equal(window.bytes, 10_066_320);
    window.add(appended(1, 251_660, 5, window.generation));
    assert.equal(window.size, 251_658);
    let characters = 0;
    for (let id = 3; id <= 251_660; id++) characters += JSON.stringify({ id }).length;
    assert.equal(window.bytes, 10_066_320 + characters + 251_658 * 64);
    assert.equal(window.read(1, 2, KINDS, 10), undefined);
  });

  test('holds the newest entries correctly as its ring of slots wraps around, many times over', () => {
    const capacity = 7;
    const recent = new RecentEntries(capacity, 1_000_000);
    let next = 1;
    for (let step = 0; step < 200; step++) {
      const count = 1 + ((step * 5) % 12);
      recent.add(appended(next, count, step, recent.generation));
      next += count;
      const newest = next - 1;
      const oldest = Math.max(1, newest - capacity + 1);
      assert.equal(recent.size, newest - oldest + 1);
      assert.equal(recent.read(oldest - 2, newest, KINDS, 100), undefined, `step ${step}: nothing before ${oldest}`);
      const read = recent.read(oldest - 1, newest, KINDS, 100)!;
      assert.deepEqual(read.map((entry) => entry.id), expected(oldest, newest, oldest - 1, newest, KINDS, 100), `step ${step}`);
      for (const entry of read) {
        assert.deepEqual(entry.payload, { id: entry.id });
        assert.equal(entry.eventTime, 1000 + entry.id);
      }
    }
  });

  test('after clear, an append that began before it is not taken in', () => {
    const recent = new RecentEntries(1000, 1_000_000);
    recent.add(appended(1, 10, 5, recent.generation));
    const generation = recent.generation;
    recent.clear();
    recent.add(appended(11, 10, 5, generation));
    assert.equal(recent.size, 0);
    recent.add(appended(21, 10, 5, recent.generation));
    assert.equal(recent.size, 10);
  });
});
