import { Inject, Injectable } from '@nestjs/common';
import type { AppConfig } from '../../config/app.config.js';
import { APP_CONFIG } from '../../config/config.module.js';
import { IngestService } from '../../ingest/ingest.service.js';
import { decodeSegment, SegmentBodyError, type SegmentType } from './segment.decode.js';

export interface SegmentReply {
  status: number;
  body: object;
}

const REPORTED_ERRORS = 10;

/**
 * Segment's HTTP Tracking API on Vigil's analytics: a batch's calls become analytics items,
 * committed before the answer (200 `{"success":true}`; the calls Vigil's validation refused are
 * counted and named in `errors`; 400 when every call was refused). 503 from ingest reaches the
 * client as a 503, which analytics-node retries.
 */
@Injectable()
export class SegmentService {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly ingest: IngestService,
  ) {}

  async receive(body: unknown, type: SegmentType | undefined): Promise<SegmentReply> {
    let items: unknown[];
    try {
      items = decodeSegment(body, type);
    } catch (error) {
      if (error instanceof SegmentBodyError) return { status: 400, body: { success: false, message: error.message } };
      throw error;
    }
    if (items.length === 0) return { status: 200, body: { success: true } };
    if (items.length > this.config.http.maxBatch) return { status: 413, body: { success: false, message: `more than ${this.config.http.maxBatch} calls in one batch (VIGIL_MAX_BATCH)` } };
    const outcome = await this.ingest.ingestItems('analytics', items, 'batch');
    const errors = outcome.errors.slice(0, REPORTED_ERRORS).map((problem) => problem.message);
    if (outcome.accepted === 0) return { status: 400, body: { success: false, message: errors[0] ?? 'no call could be stored', errors } };
    return { status: 200, body: outcome.rejected > 0 ? { success: true, rejected: outcome.rejected, errors } : { success: true } };
  }
}
