import { abortableDelay } from '../common/abortable-delay.js';
import { FailureStreak } from './failure-streak.js';
import type { IngestKind } from './ingest-log.items.js';
import type { IngestLogSignal } from './log-consumers.js';

/**
 * The one runtime of the ingest log's consumers. A consumer owns a position in the log; the runtime
 * runs it: one loop per consumer, woken by the commit signal, polling between wake-ups, one step at
 * a time. What a step does is its mode's:
 *
 * - *apply* (apply.mode.ts): derived state written in the transaction that advances the position,
 *   which holds the position's row lock on Postgres — exactly once (SLA, anomalies, analytics);
 * - *deliver* (deliver.mode.ts): send, then advance, holding a lease on Postgres — at least once
 *   (one destination queue each).
 *
 * Both read their batches up to the high-water mark (log-batch.read.ts), keep the position this
 * process last committed in a ConsumerCursor, log failures once per streak (failure-streak.ts), and
 * report their lag as the age of the oldest entry they have not passed.
 */

/** Waits that a signal ends early (without error). */
export interface Sleeper {
  sleep(milliseconds: number, signal?: AbortSignal): Promise<void>;
}

/** Real-time waits whose timer does not keep the process alive. */
export const realTimeSleeper: Sleeper = {
  sleep: (milliseconds, signal) => abortableDelay(milliseconds, signal, { unref: true }),
};

/** What one failed step leaves: how long the loop waits before the next, and whether a wake-up may end that wait early. */
export interface FailedStep {
  waitMs: number;
  wakeable: boolean;
}

/** A mode: the work of one step, and what a failed step means. */
export interface ConsumerMode {
  /**
   * One step; resolves how long to wait before the next (0: at once; a wake-up ends the wait
   * early), or a wait and whether a wake-up may end it (a replica that does not hold the consumer
   * waits its poll whatever it commits).
   */
  step(): Promise<number | FailedStep>;
  /** The step threw (the runtime was not stopping): log once per streak, forget what must be reloaded. */
  failed(error: unknown): FailedStep;
}

/**
 * The position this process last committed, or read while it held the consumer. Unknown (`known`
 * false) at start, after a failure and whenever another replica may have moved it: the next step
 * reads it again from the store (and reloads what the consumer keeps in memory).
 */
export class ConsumerCursor {
  position = 0;
  known = false;

  moved(position: number): void {
    this.position = position;
    this.known = true;
  }

  forget(): void {
    this.known = false;
  }
}

export interface RuntimeOptions {
  /** The kinds the consumer reads. */
  kinds: readonly IngestKind[];
  /**
   * Woken by commits of its kinds only (apply), or by every commit (deliver: it passes entries of
   * other kinds too, so that retention may trim them, and counts its depth as entries arrive).
   */
  wakeOn: 'own kinds' | 'any commit';
  /**
   * A wake-up waits this long before it ends the idle wait (0: at once), so that a stream of small
   * commits (one per single-item request) becomes one step rather than one per commit.
   */
  lingerMs: number;
  sleeper: Sleeper;
  signal: IngestLogSignal;
}

/**
 * Runs one consumer: a loop of steps and waits. Contracts:
 * - one step or exclusive run at a time (`exclusively`): the loop's steps, a test's drain and a
 *   checkpoint never overlap;
 * - a wake-up (commit signal, `wake()`) during a wait ends it, after the linger; one during a step
 *   makes the next step start at once, unless the step failed with a wait no wake-up may cut short
 *   (a backoff: the mode decides);
 * - `stop()` ends waits at once and resolves when the step in flight ended; a mode's step checks
 *   `stopped` to end early (after the batch in flight), and no further step starts. Exclusive runs
 *   are still allowed after stop (the shutdown checkpoint).
 */
export class ConsumerRuntime {
  /** The consumer's failure streak; its mode says what starts and ends one, and in which words. */
  readonly streak = new FailureStreak();
  private stopping = false;
  private started = false;
  private rerun = false;
  private tail: Promise<void> = Promise.resolve();
  private idleWake: AbortController | null = null;
  private lingering: NodeJS.Timeout | undefined;
  private readonly stopController = new AbortController();
  private running: Promise<void> = Promise.resolve();
  private unsubscribe: (() => void) | undefined;
  private mode: ConsumerMode | undefined;

  constructor(
    readonly name: string,
    private readonly options: RuntimeOptions,
  ) {}

  get stopped(): boolean {
    return this.stopping;
  }

  /** Aborts when the runtime stops: for waits inside a step. */
  get stopSignal(): AbortSignal {
    return this.stopController.signal;
  }

  /** Starts the loop of `mode` (once; not after stop), subscribed to the commit signal. */
  start(mode: ConsumerMode): void {
    if (this.started || this.stopping) return;
    this.started = true;
    this.mode = mode;
    const kinds = this.options.kinds;
    this.unsubscribe = this.options.signal.subscribe((committed) => {
      if (this.options.wakeOn === 'any commit' || committed === undefined || kinds.some((kind) => committed.has(kind))) this.wake();
    });
    this.running = this.loop();
  }

  /** Something to read (a commit, a replay request): ends the wait after the linger. */
  wake(): void {
    if (this.stopping) return;
    if (this.options.lingerMs <= 0) return this.wakeNow();
    if (this.lingering) return;
    this.lingering = setTimeout(() => {
      this.lingering = undefined;
      this.wakeNow();
    }, this.options.lingerMs);
    this.lingering.unref();
  }

  /**
   * Runs `work` as the consumer's only step: after the one in progress, and before any that asks
   * later (two drains of one consumer would prepare the same batch twice).
   */
  async exclusively<Result>(work: () => Promise<Result>): Promise<Result> {
    const previous = this.tail;
    let release!: () => void;
    this.tail = new Promise<void>((resolve) => (release = resolve));
    await previous;
    try {
      return await work();
    } finally {
      release();
    }
  }

  /** Waits `milliseconds`, ended early by stop and (when `wakeable`) by a wake-up. */
  async idle(milliseconds: number, wakeable = true): Promise<void> {
    if (this.stopping || milliseconds <= 0) return;
    const wake = new AbortController();
    this.idleWake = wakeable ? wake : null;
    try {
      await this.options.sleeper.sleep(milliseconds, AbortSignal.any([this.stopController.signal, wake.signal]));
    } finally {
      if (this.idleWake === wake) this.idleWake = null;
    }
  }

  /** Stops the loop: waits end at once; resolves when the step in flight and any exclusive run ended. */
  async stop(): Promise<void> {
    this.stopping = true;
    clearTimeout(this.lingering);
    this.lingering = undefined;
    this.unsubscribe?.();
    this.stopController.abort();
    this.idleWake?.abort();
    await this.running;
    await this.tail;
  }

  private wakeNow(): void {
    if (this.stopping) return;
    if (this.idleWake) this.idleWake.abort();
    else this.rerun = true;
  }

  private async loop(): Promise<void> {
    const mode = this.mode!;
    while (!this.stopping) {
      this.rerun = false;
      let waitMs: number;
      let wakeable = true;
      try {
        // A step queued behind an exclusive run does not start once the runtime stops.
        const next = await this.exclusively(() => (this.stopping ? Promise.resolve(0) : mode.step()));
        if (typeof next === 'number') waitMs = next;
        else ({ waitMs, wakeable } = next);
      } catch (error) {
        if (this.stopping) break;
        ({ waitMs, wakeable } = mode.failed(error));
      }
      if (this.rerun && wakeable) continue;
      await this.idle(waitMs, wakeable);
    }
  }
}
