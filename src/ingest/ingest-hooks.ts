import { Injectable, Logger } from '@nestjs/common';
import type { IngestKind } from '../ingest-log/ingest-log.items.js';
import type { ItemByKind } from '../ingest-log/ingest-log.items.js';

/** Why ingest must refuse new items for now (a destination queue is full). */
export interface Refusal {
  reason: string;
  retryAfterSeconds: number;
}

export type AdmissionCheck = (kind: IngestKind) => Refusal | null;

/**
 * The age past which a store deletes items of a kind by their own timestamp: ingest refuses
 * such items (with `reason` in the message) rather than accept them for deletion at once.
 */
export interface AgeLimit {
  maxAgeMs: number;
  reason: string;
}
export type CommittedItemsObserver<Kind extends IngestKind> = (items: ReadonlyArray<ItemByKind[Kind]>) => void;

/**
 * Extension points of the ingest path for other modules: admission checks run
 * before validation (a full `block` queue answers 503), observers see items right
 * after they committed (in-process views such as the Prometheus re-exposition).
 * Observers must be cheap; one that throws is logged and skipped.
 */
@Injectable()
export class IngestHooks {
  private readonly checks: AdmissionCheck[] = [];
  private readonly ageLimits = new Map<IngestKind, AgeLimit>();
  private readonly observers = new Map<IngestKind, Array<CommittedItemsObserver<IngestKind>>>();
  private readonly failingObservers = new Set<CommittedItemsObserver<IngestKind>>();
  private readonly logger = new Logger('IngestHooks');

  addAdmissionCheck(check: AdmissionCheck): void {
    this.checks.push(check);
  }

  /** Declares a store's age limit for a kind; with several, the shortest applies. */
  limitAge(kind: IngestKind, limit: AgeLimit): void {
    const current = this.ageLimits.get(kind);
    if (current === undefined || limit.maxAgeMs < current.maxAgeMs) this.ageLimits.set(kind, limit);
  }

  /** The oldest timestamp a kind accepts at `now`, and why; undefined when any past time is kept. */
  oldestAccepted(kind: IngestKind, now: number): { epochMs: number; reason: string } | undefined {
    const limit = this.ageLimits.get(kind);
    return limit === undefined ? undefined : { epochMs: now - limit.maxAgeMs, reason: limit.reason };
  }

  observeCommitted<Kind extends IngestKind>(kind: Kind, observer: CommittedItemsObserver<Kind>): void {
    const list = this.observers.get(kind) ?? [];
    list.push(observer as unknown as CommittedItemsObserver<IngestKind>);
    this.observers.set(kind, list);
  }

  refusalFor(kind: IngestKind): Refusal | null {
    for (const check of this.checks) {
      const refusal = check(kind);
      if (refusal) return refusal;
    }
    return null;
  }

  /**
   * Runs after the items are durable: an observer's failure must not turn the
   * 202 into an error (the client would retry and duplicate them). It is logged
   * once per failure streak.
   */
  committed<Kind extends IngestKind>(kind: Kind, items: ReadonlyArray<ItemByKind[Kind]>): void {
    for (const observer of this.observers.get(kind) ?? []) {
      try {
        observer(items);
        this.failingObservers.delete(observer);
      } catch (error) {
        if (!this.failingObservers.has(observer)) this.logger.error({ err: error, kind }, 'An observer of committed items failed; the items are stored');
        this.failingObservers.add(observer);
      }
    }
  }
}
