import { Injectable, Logger, type BeforeApplicationShutdown } from '@nestjs/common';
import { Interval } from '@nestjs/schedule';
import { Clock } from '../common/clock.js';
import type { EventItem } from '../ingest-log/ingest-log.items.js';
import { InternalEvents } from '../ingest/internal-events.js';
import { IngestLogSignal } from '../ingest-log/log-consumers.js';
import { OwnRequestsRecorder } from './own-requests.recorder.js';
import { SlaStatesRepository } from './sla-states.repository.js';
import type { SlaStatusBody } from './sla-status.js';
import { SlaService, type SlaStatuses } from './sla.service.js';

// After a consumer batch, re-evaluate at most this often.
const EVALUATION_DEBOUNCE_MS = 2000;

export interface Transition {
  service: string;
  from: 'meeting' | 'violated';
  to: 'meeting' | 'violated';
  status: SlaStatusBody;
}

function describe(status: SlaStatusBody): string {
  const latency = status.metrics.latency;
  const parts = [
    `p95 ${latency.p95_ms} ms (target ${latency.p95_target_ms} ms)`,
    `p99 ${latency.p99_ms} ms (target ${latency.p99_target_ms} ms)`,
    `availability ${status.metrics.availability.current_percent}% (target ${status.metrics.availability.target_percent}%)`,
    `error rate ${status.metrics.error_rate.current_percent}% (target ${status.metrics.error_rate.target_percent}%)`,
  ];
  const budget = status.error_budget ? `; error budget left ${status.error_budget.remaining_percent}%` : '';
  return `${parts.join(', ')} over ${status.window}${budget}`;
}

/**
 * Evaluates every target periodically and after consumer batches: keeps the last
 * evaluation for the Prometheus gauges, and when a service goes from meeting to
 * violated or back, stores its new state, appends an SLA event to the ingest log
 * (same transaction, so the delivery core forwards it to the APM destinations
 * exactly when the state commits) and writes one log line. The stored state means
 * a restart or another replica does not announce the same transition again. A
 * service seen for the first time is taken to have been meeting its target.
 * Also flushes the own-request rollups on its schedule.
 */
@Injectable()
export class SlaMonitor implements BeforeApplicationShutdown {
  private readonly logger = new Logger('SlaMonitor');
  private latestStatuses: SlaStatuses = new Map();
  private evaluating: Promise<unknown> = Promise.resolve();
  private debounce: NodeJS.Timeout | undefined;
  private failing = false;
  private stopped = false;

  constructor(
    private readonly states: SlaStatesRepository,
    private readonly sla: SlaService,
    private readonly internalEvents: InternalEvents,
    private readonly signal: IngestLogSignal,
    private readonly ownRequests: OwnRequestsRecorder,
    private readonly clock: Clock,
  ) {}

  /** The last evaluation (each service over its target's window), for the gauges. */
  get latest(): SlaStatuses {
    return this.latestStatuses;
  }

  @Interval('sla-evaluation', 15_000)
  async evaluateScheduled(): Promise<void> {
    await this.evaluate();
  }

  @Interval('sla-own-requests-flush', 10_000)
  async flushScheduled(): Promise<void> {
    if (!this.stopped) await this.ownRequests.flush();
  }

  /** Re-evaluates soon (after a consumer batch), at most once per debounce interval. */
  scheduleEvaluation(): void {
    if (this.debounce || this.stopped) return;
    this.debounce = setTimeout(() => {
      this.debounce = undefined;
      void this.evaluate();
    }, EVALUATION_DEBOUNCE_MS);
    this.debounce.unref();
  }

  /**
   * One evaluation, after any already running (so its result reflects everything
   * committed before the call); returns the transitions it announced. Never throws.
   */
  evaluate(): Promise<Transition[]> {
    if (this.stopped) return Promise.resolve([]);
    const run = this.evaluating.then(() => this.evaluateOnce());
    this.evaluating = run;
    return run;
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.debounce);
    await this.evaluating;
    await this.ownRequests.flush();
  }

  private async evaluateOnce(): Promise<Transition[]> {
    try {
      const statuses = await this.sla.statuses();
      this.latestStatuses = statuses;
      const transitions = await this.announceTransitions(statuses);
      if (this.failing) this.logger.log('SLA evaluation recovered');
      this.failing = false;
      return transitions;
    } catch (error) {
      if (!this.failing) this.logger.error({ err: error }, 'SLA evaluation failed; it is retried on the next schedule');
      this.failing = true;
      return [];
    }
  }

  private async announceTransitions(statuses: SlaStatuses): Promise<Transition[]> {
    const candidates = [...statuses.values()].filter((status) => status.target !== null && status.status !== 'no_data');
    if (candidates.length === 0) return [];
    const stored = await this.states.all();
    const changed = candidates.filter((status) => stored.get(status.service) !== status.status);
    if (changed.length === 0) return [];
    const now = this.clock.now();
    const transitions = await this.states.inTransitionTransaction(async (trx) => {
      const current = await this.states.all(trx);
      const announced: Transition[] = [];
      for (const status of changed) {
        const to = status.status as 'meeting' | 'violated';
        const previous = current.get(status.service);
        if (previous === to) continue;
        await this.states.set(trx, status.service, to, now);
        // First sighting: assumed meeting, so only a violation is announced.
        const from = previous ?? 'meeting';
        if (from !== to) announced.push({ service: status.service, from, to, status });
      }
      const events: EventItem[] = announced.map((transition) => ({
        title: `SLA ${transition.to === 'violated' ? 'violated' : 'met again'}: ${transition.status.target ?? transition.service}`.slice(0, 100),
        text: `${transition.service}: ${describe(transition.status)}`.slice(0, 4000),
        alertType: transition.to === 'violated' ? 'error' : 'success',
        tags: { service: transition.service, sla_status: transition.to, window: transition.status.window },
        timestamp: now,
        source: 'vigil',
      }));
      await this.internalEvents.append(trx, events);
      return announced;
    });
    for (const transition of transitions) {
      const message = `SLA of ${transition.service} went from ${transition.from} to ${transition.to}: ${describe(transition.status)}`;
      const fields = { sla_service: transition.service, from: transition.from, to: transition.to, window: transition.status.window };
      if (transition.to === 'violated') this.logger.warn(fields, message);
      else this.logger.log(fields, message);
    }
    if (transitions.length > 0) this.signal.notify();
    return transitions;
  }
}
