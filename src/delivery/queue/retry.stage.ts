import type { LogEntry } from '../../ingest-log/log-entry.js';
import { backoffDelay } from '../delivery.timing.js';
import type { ItemResult, SendResult } from '../destination.js';
import { CONFIGURATION_RETRY_REASON, type FailureStreakLog } from './failure-streak.log.js';
import type { BatchRun, Interruption, LogIdOf, QueueDependencies, QueueSettings, Resolutions } from './queue.types.js';
import type { SendStage } from './send.stage.js';

type RetryDependencies = Pick<QueueDependencies, 'metrics' | 'clock' | 'random'>;

/** What the retry stage needs of the queue that runs it. */
export interface RetryControl {
  /** The queue is stopping: no new attempt starts. */
  isStopped(): boolean;
  /** The in-flight request was aborted (shutdown past its grace). */
  isSendAborted(): boolean;
  /** Runs the entry filters (erasure, expiry) before an attempt: resolves what must not be sent, returns the rest. */
  filter(entries: LogEntry[], resolutions: Resolutions, logIdOf: LogIdOf): LogEntry[];
  /** Waits `milliseconds` of clock time while keeping the queue current; says why it ended early, if it did. */
  wait(milliseconds: number): Promise<Interruption | null>;
}

/** What one attempt's answer means for its entries. */
interface AttemptOutcome {
  /** Entries to send again after a wait. */
  retry: LogEntry[];
  /** The answer (whole or one item's) that decides the retry's reason. */
  retryResult: SendResult | ItemResult | null;
  retryAfterMs: number | undefined;
  /** A too-large batch split in two, sent first, in order. */
  halves: [LogEntry[], LogEntry[]] | null;
}

/**
 * Stage contract — retry with Retry-After and backoff. Sends a batch until
 * every entry is resolved (delivered, or dead with a reason) or the queue is
 * interrupted: too_large halves the batch (one entry alone is dead), permanent
 * answers are dead (`rejected`), retryable and throttled ones are sent again
 * after a capped, jittered backoff that a Retry-After lengthens (up to
 * `maxPauseMs`, pausing the whole queue). Before every attempt the entry
 * filters run, so that an entry erased or expired while it waited is not sent.
 * It neither reads the log nor commits: the queue commits what it resolved.
 */
export class RetryStage {
  /** Retry-After: nothing is sent before this clock time. */
  pausedUntil = 0;
  private consecutiveFailures = 0;

  constructor(
    private readonly name: string,
    private readonly settings: Pick<QueueSettings, 'backoff' | 'maxPauseMs'>,
    private readonly deps: RetryDependencies,
    private readonly send: SendStage,
    private readonly log: FailureStreakLog,
    private readonly control: RetryControl,
  ) {}

  /** Delay before the next try after a failure of the queue itself (a failed prepare, a store error). */
  nextBackoff(): number {
    return backoffDelay(this.settings.backoff, this.consecutiveFailures++, this.deps.random);
  }

  async run(batch: readonly LogEntry[], logIdOf: LogIdOf): Promise<BatchRun> {
    const resolutions: Resolutions = new Map();
    const pending: LogEntry[][] = [[...batch]];
    const name = this.name;
    while (pending.length > 0) {
      if (this.control.isStopped()) return { resolutions, interrupted: 'stopped' };
      // Checked before every attempt: a user may be erased while the batch waits to be retried.
      const sub = this.control.filter(pending.shift()!, resolutions, logIdOf);
      if (sub.length === 0) continue;
      const result = await this.send.attempt(sub);
      if (this.control.isStopped() && this.control.isSendAborted()) return { resolutions, interrupted: 'stopped' };
      const { retry, retryResult, retryAfterMs, halves } = this.resolve(sub, result, resolutions);
      if (halves !== null) pending.unshift(...halves);
      if (retry.length === 0) {
        if (result.outcome !== 'too_large') this.succeeded();
        continue;
      }
      const reason = retryReason(retryResult!);
      this.deps.metrics.retries.inc({ destination: name, reason });
      this.deps.metrics.items.inc({ destination: name, outcome: 'retried' }, retry.length);
      this.log.failed(reason, 'reason' in retryResult! ? retryResult.reason : reason, 'status' in retryResult! ? retryResult.status : undefined);
      pending.unshift(retry);
      const now = this.deps.clock.now();
      if (retryAfterMs !== undefined) this.pausedUntil = Math.max(this.pausedUntil, now + Math.min(retryAfterMs, this.settings.maxPauseMs));
      const wait = Math.max(this.nextBackoff(), this.pausedUntil - now);
      const interrupted = await this.control.wait(wait);
      if (interrupted) return { resolutions, interrupted };
    }
    return { resolutions, interrupted: null };
  }

  /** A send went through: the backoff starts over. */
  private succeeded(): void {
    this.consecutiveFailures = 0;
    this.log.succeeded();
  }

  /** Records the resolved entries of one attempt and says what is left to do. */
  private resolve(sub: LogEntry[], result: SendResult, resolutions: Resolutions): AttemptOutcome {
    const outcome: AttemptOutcome = { retry: [], retryResult: null, retryAfterMs: undefined, halves: null };
    switch (result.outcome) {
      case 'delivered':
        for (const entry of sub) resolutions.set(entry.id, { outcome: 'delivered' });
        break;
      case 'too_large':
        if (sub.length === 1) {
          resolutions.set(sub[0]!.id, { outcome: 'dead', reason: 'too_large', status: result.status ?? 413, detail: result.reason });
        } else {
          const middle = Math.ceil(sub.length / 2);
          outcome.halves = [sub.slice(0, middle), sub.slice(middle)];
        }
        break;
      case 'permanent':
        for (const entry of sub) resolutions.set(entry.id, { outcome: 'dead', reason: 'rejected', status: result.status ?? null, detail: result.reason });
        this.log.rejected(sub.length, result.reason, result.status);
        break;
      case 'retryable':
      case 'throttled':
        outcome.retry = sub;
        outcome.retryResult = result;
        outcome.retryAfterMs = result.outcome === 'throttled' ? result.retryAfterMs : undefined;
        break;
      case 'partial': {
        let rejected = 0;
        sub.forEach((entry, index) => {
          const item = result.items[index] ?? { outcome: 'retryable' as const, reason: 'no result for this item' };
          if (item.outcome === 'delivered') resolutions.set(entry.id, { outcome: 'delivered' });
          else if (item.outcome === 'permanent') {
            rejected++;
            resolutions.set(entry.id, { outcome: 'dead', reason: 'rejected', status: item.status ?? null, detail: item.reason });
          } else {
            outcome.retry.push(entry);
            outcome.retryResult ??= item;
            if (item.outcome === 'throttled' && item.retryAfterMs !== undefined) outcome.retryAfterMs = Math.max(outcome.retryAfterMs ?? 0, item.retryAfterMs);
          }
        });
        if (rejected > 0) this.log.rejected(rejected, 'rejected items in a partial answer', undefined);
        break;
      }
    }
    return outcome;
  }
}

/** The `reason` label of vigil_delivery_retries_total: one of the fixed list in its help (delivery.metrics.ts). */
function retryReason(result: SendResult | ItemResult): string {
  if ('cause' in result && result.cause === 'configuration') return CONFIGURATION_RETRY_REASON;
  if (result.outcome === 'throttled') return 'throttled';
  const status = 'status' in result ? result.status : undefined;
  if (status === undefined) return 'network';
  if (status === 408) return 'timeout';
  return 'server_error';
}
