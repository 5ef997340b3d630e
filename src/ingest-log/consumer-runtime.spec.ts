import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ConsumerRuntime, type ConsumerMode, type FailedStep, type RuntimeOptions, type Sleeper } from './consumer-runtime.js';
import { FailureStreak } from './failure-streak.js';
import type { IngestKind } from './ingest-log.items.js';
import { cutBatch } from './log-batch.read.js';
import { IngestLogSignal } from './log-consumers.js';
import type { LogEntry } from './log-entry.js';

/** Lets every pending promise and immediate run (a bounded number of turns, no clock). */
async function settle(): Promise<void> {
  for (let turn = 0; turn < 20; turn++) await new Promise<void>((resolve) => setImmediate(resolve));
}

/** A sleeper whose waits end only when their signal aborts or the test ends them; it records each wait. */
class RecordingSleeper implements Sleeper {
  readonly waits: Array<{ milliseconds: number; signal: AbortSignal; end: () => void }> = [];
  constructor(private readonly events: string[]) {}
  sleep(milliseconds: number, signal: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      this.events.push(`wait ${milliseconds}`);
      this.waits.push({ milliseconds, signal, end: resolve });
      signal.addEventListener('abort', () => resolve(), { once: true });
    });
  }
  get last() {
    return this.waits[this.waits.length - 1]!;
  }
}

/** A mode whose steps the test holds open, fails or lets through; it records each step. */
class ScriptedMode implements ConsumerMode {
  steps = 0;
  waitMs = 60_000;
  failing: FailedStep | null = null;
  private held: Promise<void> | null = null;
  private release: (() => void) | null = null;
  constructor(private readonly events: string[]) {}
  hold(): void {
    this.held = new Promise((resolve) => (this.release = resolve));
  }
  letGo(): void {
    this.held = null;
    this.release?.();
  }
  async step(): Promise<number> {
    this.steps++;
    this.events.push(`step ${this.steps}`);
    if (this.held) await this.held;
    if (this.failing) throw new Error('step failed');
    return this.waitMs;
  }
  failed(): FailedStep {
    this.events.push('failed');
    return this.failing!;
  }
}

function runtimeOf(options: Partial<RuntimeOptions> = {}) {
  const events: string[] = [];
  const signal = new IngestLogSignal();
  const sleeper = new RecordingSleeper(events);
  const mode = new ScriptedMode(events);
  const kinds: IngestKind[] = ['metric'];
  const runtime = new ConsumerRuntime('test', { kinds, wakeOn: 'own kinds', lingerMs: 0, sleeper, signal, ...options });
  return { events, signal, sleeper, mode, runtime };
}

describe('ConsumerRuntime', () => {
  test('steps at start, waits what the step says, and a wake-up ends the wait at once', async () => {
    const { events, sleeper, mode, runtime } = runtimeOf();
    runtime.start(mode);
    await settle();
    assert.deepEqual(events, ['step 1', 'wait 60000']);
    runtime.wake();
    await settle();
    assert.equal(sleeper.waits[0]!.signal.aborted, true);
    assert.deepEqual(events, ['step 1', 'wait 60000', 'step 2', 'wait 60000']);
    await runtime.stop();
  });

  test('a wake-up during a step makes the next step start without a wait; several make one', async () => {
    const { events, mode, runtime } = runtimeOf();
    mode.hold();
    runtime.start(mode);
    await settle();
    runtime.wake();
    runtime.wake();
    mode.letGo();
    await settle();
    assert.deepEqual(events, ['step 1', 'step 2', 'wait 60000']);
    await runtime.stop();
  });

  test('a failed step waits what its mode says; a wake-up ends that wait only when the mode allows it', async () => {
    const { events, sleeper, mode, runtime } = runtimeOf();
    mode.failing = { waitMs: 7000, wakeable: false };
    runtime.start(mode);
    await settle();
    assert.deepEqual(events, ['step 1', 'failed', 'wait 7000']);
    runtime.wake();
    await settle();
    assert.equal(sleeper.last.signal.aborted, false, 'a backoff is not cut short by a commit');
    assert.equal(mode.steps, 1);
    mode.failing = { waitMs: 1000, wakeable: true };
    sleeper.last.end();
    await settle();
    assert.deepEqual(events, ['step 1', 'failed', 'wait 7000', 'step 2', 'failed', 'wait 1000']);
    runtime.wake();
    await settle();
    assert.equal(mode.steps, 3);
    await runtime.stop();
  });

  test('commits wake a consumer of its own kinds only, unless it is woken by every commit', async () => {
    for (const wakeOn of ['own kinds', 'any commit'] as const) {
      const { signal, mode, runtime } = runtimeOf({ wakeOn });
      runtime.start(mode);
      await settle();
      signal.notify(new Set<IngestKind>(['log', 'request']));
      await settle();
      assert.equal(mode.steps, wakeOn === 'own kinds' ? 1 : 2, wakeOn);
      signal.notify(new Set<IngestKind>(['metric']));
      await settle();
      assert.equal(mode.steps, wakeOn === 'own kinds' ? 2 : 3, wakeOn);
      signal.notify();
      await settle();
      assert.equal(mode.steps, wakeOn === 'own kinds' ? 3 : 4, wakeOn);
      await runtime.stop();
    }
  });

  test('with a linger, a wake-up ends the wait later, not at once, and wake-ups meanwhile make one step', async () => {
    const { sleeper, mode, runtime } = runtimeOf({ lingerMs: 1 });
    runtime.start(mode);
    await settle();
    runtime.wake();
    runtime.wake();
    assert.equal(sleeper.last.signal.aborted, false);
    const firstWait = sleeper.last;
    // The linger's timer does not hold the process open (unref): this one does, meanwhile.
    const keepAlive = setInterval(() => undefined, 1000);
    await new Promise<void>((resolve) => firstWait.signal.addEventListener('abort', () => resolve(), { once: true }));
    clearInterval(keepAlive);
    await settle();
    assert.equal(mode.steps, 2);
    assert.equal(sleeper.waits.length, 2);
    await runtime.stop();
  });

  test('exclusive runs and steps never overlap: each starts after the one in progress', async () => {
    const { events, mode, runtime } = runtimeOf();
    mode.hold();
    runtime.start(mode);
    await settle();
    const exclusive = runtime.exclusively(async () => {
      events.push('exclusive');
      return 42;
    });
    await settle();
    assert.deepEqual(events, ['step 1']);
    mode.letGo();
    assert.equal(await exclusive, 42);
    await settle();
    assert.deepEqual(events, ['step 1', 'exclusive', 'wait 60000']);
    await runtime.stop();
  });

  test('a step waiting behind an exclusive run does not start once the runtime stops', async () => {
    const { events, mode, runtime } = runtimeOf();
    runtime.start(mode);
    await settle();
    let release!: () => void;
    const exclusive = runtime.exclusively(() => new Promise<void>((resolve) => (release = resolve)));
    runtime.wake();
    await settle();
    const stopping = runtime.stop();
    release();
    await exclusive;
    await stopping;
    assert.deepEqual(events, ['step 1', 'wait 60000']);
  });

  test('stop ends the wait, resolves after the step in flight, and no step follows; exclusive runs still run', async () => {
    const { events, sleeper, mode, runtime } = runtimeOf();
    runtime.start(mode);
    await settle();
    mode.hold();
    runtime.wake();
    await settle();
    assert.deepEqual(events, ['step 1', 'wait 60000', 'step 2']);
    let stopped = false;
    const stopping = runtime.stop().then(() => (stopped = true));
    await settle();
    assert.equal(stopped, false, 'stop waits for the step in flight');
    assert.equal(runtime.stopped, true);
    assert.equal(runtime.stopSignal.aborted, true);
    mode.letGo();
    await stopping;
    runtime.wake();
    await settle();
    assert.deepEqual(events, ['step 1', 'wait 60000', 'step 2']);
    assert.equal(sleeper.waits.length, 1);
    assert.equal(await runtime.exclusively(async () => 'after stop'), 'after stop');
    runtime.start(mode);
    await settle();
    assert.equal(mode.steps, 2, 'a runtime starts once, and not after stop');
  });
});

function entry(id: number, bytes: number, kind: IngestKind = 'metric'): LogEntry {
  return { id, kind, receivedAt: id * 10, eventTime: id * 10, bytes, payload: {} } as unknown as LogEntry;
}

describe('cutBatch', () => {
  test('nothing after the position: the batch is empty and the position stays', () => {
    assert.deepEqual(cutBatch([], 40, 40, { maxItems: 10, maxBytes: 100 }), { entries: [], next: 40, exhausted: true, full: false });
    assert.deepEqual(cutBatch([], 40, 35, { maxItems: 10, maxBytes: 100 }), { entries: [], next: 40, exhausted: true, full: false });
  });

  test('nothing of its kinds up to the high-water mark: the position moves past the other kinds', () => {
    assert.deepEqual(cutBatch([], 40, 55, { maxItems: 10, maxBytes: 100 }), { entries: [], next: 55, exhausted: true, full: false });
  });

  test('fewer entries than asked for, within the bytes: the last batch, moving to the high-water mark', () => {
    const read = [entry(41, 10), entry(44, 20), entry(47, 30)];
    const batch = cutBatch(read, 40, 50, { maxItems: 10, maxBytes: 100 });
    assert.deepEqual(batch.entries.map((item) => item.id), [41, 44, 47]);
    assert.equal(batch.next, 50);
    assert.equal(batch.exhausted, true);
    assert.equal(batch.full, false);
  });

  test('as many entries as asked for: full, and the position moves to the last one only', () => {
    const read = [entry(41, 10), entry(44, 20)];
    assert.deepEqual(cutBatch(read, 40, 50, { maxItems: 2, maxBytes: Number.POSITIVE_INFINITY }), { entries: read, next: 44, exhausted: false, full: true });
  });

  test('the byte limit cuts the batch after the last entry that fits', () => {
    const read = [entry(41, 40), entry(42, 50), entry(43, 20), entry(44, 5)];
    const batch = cutBatch(read, 40, 60, { maxItems: 10, maxBytes: 100 });
    assert.deepEqual(batch.entries.map((item) => item.id), [41, 42]);
    assert.equal(batch.next, 42);
    assert.equal(batch.exhausted, false);
    assert.equal(batch.full, true);
  });

  test('an entry over the byte limit alone still makes a batch of one', () => {
    const batch = cutBatch([entry(41, 500), entry(42, 5)], 40, 60, { maxItems: 10, maxBytes: 100 });
    assert.deepEqual(batch.entries.map((item) => item.id), [41]);
    assert.equal(batch.next, 41);
    assert.equal(batch.full, true);
  });

  test('entries that fill the bytes exactly are full though the last of the log', () => {
    const batch = cutBatch([entry(41, 60), entry(42, 40)], 40, 45, { maxItems: 10, maxBytes: 100 });
    assert.deepEqual(batch.entries.map((item) => item.id), [41, 42]);
    assert.equal(batch.next, 45);
    assert.equal(batch.exhausted, true);
    assert.equal(batch.full, true);
  });
});

describe('FailureStreak', () => {
  test('a streak starts at its first failure and ends at the next success, with its length', () => {
    const streak = new FailureStreak();
    assert.equal(streak.succeeded(100), null, 'a success outside a streak ends nothing');
    assert.equal(streak.failed(1000), true);
    assert.equal(streak.failed(2000), false);
    assert.equal(streak.isFailing, true);
    assert.equal(streak.succeeded(4500), 3500);
    assert.equal(streak.isFailing, false);
    assert.equal(streak.succeeded(5000), null);
    assert.equal(streak.failed(6000), true);
  });
});
