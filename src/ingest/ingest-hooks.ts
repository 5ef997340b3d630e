import { Injectable } from '@nestjs/common';
import type { IngestKind } from '../storage/database.js';
import type { ItemByKind } from './ingest.types.js';

/** Why ingest must refuse new items for now (a destination queue is full). */
export interface Refusal {
  reason: string;
  retryAfterSeconds: number;
}

export type AdmissionCheck = (kind: IngestKind) => Refusal | null;
export type CommittedItemsObserver<Kind extends IngestKind> = (items: ReadonlyArray<ItemByKind[Kind]>) => void;

/**
 * Extension points of the ingest path for other modules: admission checks run
 * before validation (a full `block` queue answers 503), observers see items right
 * after they committed (in-process views such as the Prometheus re-exposition).
 * Observers must be cheap and must not throw.
 */
@Injectable()
export class IngestHooks {
  private readonly checks: AdmissionCheck[] = [];
  private readonly observers = new Map<IngestKind, Array<CommittedItemsObserver<IngestKind>>>();

  addAdmissionCheck(check: AdmissionCheck): void {
    this.checks.push(check);
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

  committed<Kind extends IngestKind>(kind: Kind, items: ReadonlyArray<ItemByKind[Kind]>): void {
    for (const observer of this.observers.get(kind) ?? []) observer(items);
  }
}
