import { Injectable } from '@nestjs/common';
import { Clock } from '../common/clock.js';
import { HttpExceptionWithHeaders } from '../common/error.filter.js';
import { VigilMetrics } from '../common/vigil.metrics.js';
import type { IngestKind, ItemByKind } from '../ingest-log/ingest-log.items.js';
import type { NewLogEntry } from '../ingest-log/log-entry.js';
import { GroupCommitter } from './group-committer.js';
import { IngestHooks } from './ingest-hooks.js';
import type { IngestOutcome } from './ingest.types.js';
import { BatchPosition, userIdOf, validateItem } from './ingest.validation.js';
import { itemsJson } from './item-json.js';

const MAX_REPORTED_ERRORS = 100;

export interface IngestOptions {
  /**
   * Keep only the items before the first invalid one (Splunk HEC's rule: the events before an
   * invalid event are indexed, the rest of the request is not). Default: every valid item.
   */
  upToFirstInvalid?: boolean;
  /**
   * List every refused item in `errors`, not only the first 100 (protocols that answer per item,
   * such as Elasticsearch's bulk API; the batch is bounded by VIGIL_MAX_BATCH anyway).
   */
  everyError?: boolean;
  /**
   * The raw items are the caller's to give away: freshly decoded values that it neither keeps
   * nor changes afterwards (a parsed JSON body). An item already in stored form is then stored
   * and shared with the consumers as it is, not copied. Not for items an intake keeps or reuses.
   */
  ownedItems?: boolean;
}

/** The log entries of validated items of `kind`, with their JSON (written for the whole batch at once). */
function newEntries<Kind extends IngestKind>(kind: Kind, items: ReadonlyArray<ItemByKind[Kind]>): NewLogEntry[] {
  const texts = itemsJson(kind, items);
  const entries: NewLogEntry[] = new Array<NewLogEntry>(items.length);
  for (let index = 0; index < items.length; index++) {
    const item = items[index]!;
    entries[index] = { kind, eventTime: item.timestamp, userId: userIdOf(kind, item), item, json: texts[index] } as NewLogEntry;
  }
  return entries;
}

/**
 * The intake-independent half of ingest: every intake hands its decoded batch here.
 * Wire formats, batch-size limits and the protocol's answer belong to the intake.
 */
@Injectable()
export class IngestService {
  constructor(
    private readonly committer: GroupCommitter,
    private readonly hooks: IngestHooks,
    private readonly metrics: VigilMetrics,
    private readonly clock: Clock,
  ) {}

  /**
   * Checks admission for `kind`, validates `rawItems` item by item, durably appends the valid
   * ones (group commit) and reports the rest; resolves only after the accepted items are
   * committed. `batchName` names the batch in item messages (`metrics` → `metrics[3].value …`).
   * With `upToFirstInvalid`, validation stops at the first invalid item (see IngestOptions).
   *
   * Throws a 503 `HttpExceptionWithHeaders` with Retry-After when nothing can be stored now
   * (a delivery queue is full, ingest is saturated or shutting down, storage fails); an intake
   * whose protocol words that differently catches it. Every other outcome is returned,
   * including "every item was invalid" (`accepted: 0`, nothing appended).
   */
  async ingestItems(kind: IngestKind, rawItems: readonly unknown[], batchName: string, options: IngestOptions = {}): Promise<IngestOutcome> {
    const refusal = this.hooks.refusalFor(kind);
    if (refusal) {
      throw new HttpExceptionWithHeaders(refusal.reason, 503, { 'retry-after': String(refusal.retryAfterSeconds) });
    }

    const now = this.clock.now();
    const bounds = { now, oldest: this.hooks.oldestAccepted(kind, now) };
    const items: Array<ItemByKind[typeof kind]> = [];
    const errors: IngestOutcome['errors'] = [];
    let rejected = 0;
    const position = new BatchPosition(batchName);
    for (let index = 0; index < rawItems.length; index++) {
      position.index = index;
      const verdict = validateItem(kind, rawItems[index], position, bounds, options.ownedItems === true);
      if ('error' in verdict) {
        if (options.upToFirstInvalid) {
          // The items after it are not looked at, and count as rejected with it.
          rejected = rawItems.length - index;
          errors.push({ index, message: verdict.error });
          break;
        }
        rejected++;
        if (options.everyError || errors.length < MAX_REPORTED_ERRORS) errors.push({ index, message: verdict.error });
        continue;
      }
      items.push(verdict.item);
    }
    if (items.length === 0) {
      this.metrics.ingestedItems.inc({ kind, outcome: 'rejected' }, rejected);
      return { accepted: 0, rejected, errors };
    }
    await this.committer.append(newEntries(kind, items));
    this.metrics.ingestedItems.inc({ kind, outcome: 'accepted' }, items.length);
    if (rejected > 0) this.metrics.ingestedItems.inc({ kind, outcome: 'rejected' }, rejected);
    this.hooks.committed(kind, items);
    return { accepted: items.length, rejected, errors };
  }
}
