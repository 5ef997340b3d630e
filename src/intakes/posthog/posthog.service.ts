import { Inject, Injectable } from '@nestjs/common';
import type { AppConfig } from '../../config/app.config.js';
import { APP_CONFIG } from '../../config/config.module.js';
import { IngestService } from '../../ingest/ingest.service.js';

export interface PostHogReply {
  status: number;
  body: object;
}

/**
 * PostHog's capture API on Vigil's analytics: events become analytics items, committed before
 * the answer (200 `{"status":1}` as PostHog answers; 400 when no event could be stored).
 */
@Injectable()
export class PostHogService {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly ingest: IngestService,
  ) {}

  get maxBodyBytes(): number {
    return this.config.http.maxBodyBytes;
  }

  async receive(items: unknown[]): Promise<PostHogReply> {
    if (items.length === 0) return { status: 200, body: { status: 1 } };
    if (items.length > this.config.http.maxBatch) {
      return { status: 413, body: { type: 'validation_error', code: 'too_many_events', detail: `more than ${this.config.http.maxBatch} events in one request (VIGIL_MAX_BATCH)`, attr: null } };
    }
    const outcome = await this.ingest.ingestItems('analytics', items, 'batch');
    if (outcome.accepted === 0) {
      return { status: 400, body: { type: 'validation_error', code: 'invalid_payload', detail: outcome.errors[0]?.message ?? 'no event could be stored', attr: null } };
    }
    return { status: 200, body: { status: 1 } };
  }
}
