import { BadRequestException, Inject, Injectable, PayloadTooLargeException } from '@nestjs/common';
import { Clock } from '../common/clock.js';
import { HttpExceptionWithHeaders } from '../common/error.filter.js';
import type { AppConfig } from '../config/app.config.js';
import { APP_CONFIG } from '../config/config.module.js';
import { VigilMetrics } from '../common/vigil.metrics.js';
import type { IngestKind, ItemByKind } from '../ingest-log/ingest-log.items.js';
import type { NewLogEntry } from '../ingest-log/log-entry.js';
import { GroupCommitter } from './group-committer.js';
import { IngestHooks } from './ingest-hooks.js';
import { INGEST_ENDPOINTS, type IngestEndpoint, type IngestResult } from './ingest.types.js';
import { BatchPosition, userIdOf, validateItem } from './ingest.validation.js';
import { itemJson } from './item-json.js';

const MAX_REPORTED_ERRORS = 100;

/** The log entry of a validated item of `kind`. */
function newEntry<Kind extends IngestKind>(kind: Kind, item: ItemByKind[Kind]): NewLogEntry<Kind> {
  return { kind, eventTime: item.timestamp, userId: userIdOf(kind, item), item, json: itemJson(kind, item) };
}

@Injectable()
export class IngestService {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly committer: GroupCommitter,
    private readonly hooks: IngestHooks,
    private readonly metrics: VigilMetrics,
    private readonly clock: Clock,
  ) {}

  /**
   * Validates a batch item by item, durably appends the valid ones, and reports
   * the rest. Resolves only after the accepted items are committed.
   */
  async ingest(endpoint: IngestEndpoint, body: unknown): Promise<IngestResult> {
    const { field, kind } = INGEST_ENDPOINTS[endpoint];
    const batch = typeof body === 'object' && body !== null && !Array.isArray(body) ? (body as Record<string, unknown>)[field] : undefined;
    if (!Array.isArray(batch)) throw new BadRequestException(`${field} must be an array`);
    if (batch.length === 0) throw new BadRequestException(`${field} must not be empty`);
    if (batch.length > this.config.http.maxBatch) {
      throw new PayloadTooLargeException(`${field} has ${batch.length} items; at most ${this.config.http.maxBatch} are allowed`);
    }
    const refusal = this.hooks.refusalFor(kind);
    if (refusal) {
      throw new HttpExceptionWithHeaders(refusal.reason, 503, { 'retry-after': String(refusal.retryAfterSeconds) });
    }

    const now = this.clock.now();
    const bounds = { now, oldest: this.hooks.oldestAccepted(kind, now) };
    const items: Array<ItemByKind[typeof kind]> = [];
    const entries: NewLogEntry[] = [];
    const errors: IngestResult['errors'] = [];
    let rejected = 0;
    const position = new BatchPosition(field);
    for (let index = 0; index < batch.length; index++) {
      position.index = index;
      const verdict = validateItem(kind, batch[index], position, bounds);
      if ('error' in verdict) {
        rejected++;
        if (errors.length < MAX_REPORTED_ERRORS) errors.push({ index, message: verdict.error });
        continue;
      }
      items.push(verdict.item);
      entries.push(newEntry(kind, verdict.item));
    }
    if (items.length === 0) {
      this.metrics.ingestedItems.inc({ kind, outcome: 'rejected' }, rejected);
      const more = rejected > errors.length ? ` (and ${rejected - errors.length} more)` : '';
      throw new BadRequestException({
        message: `every item was invalid: ${errors.slice(0, 10).map((error) => error.message).join('; ')}${more}`,
        errors,
      });
    }
    await this.committer.append(entries);
    this.metrics.ingestedItems.inc({ kind, outcome: 'accepted' }, items.length);
    if (rejected > 0) this.metrics.ingestedItems.inc({ kind, outcome: 'rejected' }, rejected);
    this.hooks.committed(kind, items);
    return { accepted: items.length, rejected, errors };
  }
}
