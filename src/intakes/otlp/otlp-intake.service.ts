import { Inject, Injectable } from '@nestjs/common';
import { Clock } from '../../common/clock.js';
import type { AppConfig } from '../../config/app.config.js';
import { APP_CONFIG } from '../../config/config.module.js';
import type { IngestKind } from '../../ingest-log/ingest-log.items.js';
import { IngestService } from '../../ingest/ingest.service.js';
import { CumulativeSums } from './cumulative-sums.js';
import { decodeLogs } from './otlp-logs.decode.js';
import { decodeMetrics, deltaItem } from './otlp-metrics.decode.js';
import { decodeTraces } from './otlp-traces.decode.js';
import { MAX_PROBLEMS, type DecodedExport } from './otlp.batch.js';
import { OtlpMetrics } from './otlp.metrics.js';
import type { OtlpSignal } from './otlp.proto.js';

/** What an export came to: items committed, parts refused (by the intake or by ingest), the first reasons. */
export interface OtlpOutcome {
  accepted: number;
  rejected: number;
  problems: string[];
}

const KIND_OF_SIGNAL = { traces: 'request', metrics: 'metric', logs: 'log' } as const satisfies Record<OtlpSignal, IngestKind>;
/** How ingest's messages name the items made from an export (Vigil's items, not OTLP's spans or points). */
const BATCH_NAME = { traces: 'requests', metrics: 'metrics', logs: 'logs' } as const satisfies Record<OtlpSignal, string>;

/**
 * The OTLP intake's one step after decoding: maps an export request (a protobufjs message or the
 * OTLP/JSON tree) to items, converts cumulative sums, and hands the items to ingest in batches of
 * at most VIGIL_MAX_BATCH. Resolves after every batch is committed; a 503 from ingest is thrown
 * as it is (an export split into several batches may then have been stored in part, and the
 * sender's retry stores that part again: at least once, as for a retried JSON batch).
 */
@Injectable()
export class OtlpIntakeService {
  private readonly cumulativeSums: CumulativeSums;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly ingest: IngestService,
    private readonly clock: Clock,
    private readonly metrics: OtlpMetrics,
  ) {
    this.cumulativeSums = new CumulativeSums(
      clock.now(),
      undefined,
      () => metrics.cumulativePoints.inc({ outcome: 'refused' }),
      (count) => metrics.cumulativeSeriesForgotten.inc(count),
    );
  }

  async export(signal: OtlpSignal, request: Record<string, unknown>): Promise<OtlpOutcome> {
    if (signal === 'metrics') return this.exportMetrics(request);
    const decoded = signal === 'traces' ? decodeTraces(request) : decodeLogs(request);
    if (signal === 'traces') {
      for (const [kind, count] of (decoded as ReturnType<typeof decodeTraces>).spansByKind) this.metrics.spans.inc({ kind }, count);
    }
    return this.ingestAll(signal, decoded, decoded.items);
  }

  private async exportMetrics(request: Record<string, unknown>): Promise<OtlpOutcome> {
    const decoded = decodeMetrics(request);
    const items = [...decoded.items];
    const firstDelta = items.length;
    const { verdicts, undo } = this.cumulativeSums.convert(
      decoded.cumulative.map((pending) => pending.point),
      this.clock.now(),
    );
    this.metrics.cumulativeSeries.set(this.cumulativeSums.size);
    /** Position in `items` → position among the cumulative points, for the undo of refused ones. */
    const cumulativeAt = new Map<number, number>();
    verdicts.forEach((verdict, index) => {
      if ('refused' in verdict) return decoded.reject(verdict.refused);
      if ('skipped' in verdict) return this.metrics.cumulativePoints.inc({ outcome: verdict.skipped });
      this.metrics.cumulativePoints.inc({ outcome: 'counted' });
      const item = deltaItem(decoded.cumulative[index]!.item, verdict.delta);
      if (item === undefined) return;
      cumulativeAt.set(items.length, index);
      items.push(item);
    });
    try {
      const outcome = await this.ingestAll('metrics', decoded, items, (refusedIndices) => {
        const refused = new Set<number>();
        for (const index of refusedIndices) if (index >= firstDelta) refused.add(cumulativeAt.get(index)!);
        if (refused.size > 0) undo(refused);
      });
      return outcome;
    } catch (error) {
      undo();
      throw error;
    }
  }

  /**
   * Ingests `items` in batches of at most VIGIL_MAX_BATCH; `onRefused` hears the positions (in
   * `items`) ingest reported refused (at most its first 100 per batch).
   */
  private async ingestAll(
    signal: OtlpSignal,
    decoded: DecodedExport,
    items: ReadonlyArray<Record<string, unknown>>,
    onRefused?: (indices: number[]) => void,
  ): Promise<OtlpOutcome> {
    const problems = [...decoded.problems];
    let accepted = 0;
    let rejected = decoded.rejected;
    const maxBatch = this.config.http.maxBatch;
    for (let start = 0; start < items.length; start += maxBatch) {
      const batch = items.slice(start, start + maxBatch);
      // Every item is made by the decoders for this export and kept by nothing else (a cumulative
      // point's pending item is copied by deltaItem, never ingested itself): ingest may store them as they are.
      const outcome = await this.ingest.ingestItems(KIND_OF_SIGNAL[signal], batch, BATCH_NAME[signal], { ownedItems: true });
      accepted += outcome.accepted;
      rejected += outcome.rejected;
      for (const problem of outcome.errors) if (problems.length < MAX_PROBLEMS) problems.push(problem.message.replace(/^[a-zA-Z]+\[(\d+)\]/, (_all, index: string) => `${BATCH_NAME[signal]}[${start + Number(index)}]`));
      if (onRefused !== undefined && outcome.errors.length > 0) onRefused(outcome.errors.map((problem) => start + problem.index));
    }
    return { accepted, rejected, problems };
  }
}
