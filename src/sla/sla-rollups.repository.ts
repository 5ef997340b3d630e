import { Inject, Injectable } from '@nestjs/common';
import { sql } from 'kysely';
import { randomInt } from 'node:crypto';
import type { Db, Executor, Tx } from '../storage/database.js';
import type { SlaTables } from './sla.tables.js';
import { DATABASE, isPostgres } from '../storage/database.provider.js';
import { LatencySketch } from './latency-sketch.js';
import type { RollupDeltas } from './rollup-delta.js';
import { bucketOf, type ResolutionRange } from './sla-windows.js';
import type { RollupResolution } from './sla.tables.js';

// Serialises read-modify-write of rollups on Postgres between the SLA consumer
// (one replica at a time) and every replica's flush of its own requests.
const ROLLUP_LOCK_KEY = 7_021_978;
const RESOLUTIONS: readonly RollupResolution[] = ['minute', 'hour', 'day'];
// 8 parameters a row keeps upserts far under both stores' parameter limits.
const ROWS_PER_STATEMENT = 500;
const KEYS_PER_LOOKUP = 500;

export interface RollupRow {
  revision: number;
  service: string;
  resolution: RollupResolution;
  bucket_start: number;
  total: number;
  failed: number;
  first_event_at: number;
  sketch?: Buffer;
  /** Exact durations when the row keeps them (validate with decodeExact); read with the sketch. */
  exact_ms?: Buffer | null;
}

interface MergedRow {
  resolution: RollupResolution;
  bucket_start: number;
  service: string;
  total: number;
  failed: number;
  first_event_at: number;
  sketch: LatencySketch;
}

function chunks<Item>(items: readonly Item[], size: number): Item[][] {
  const result: Item[][] = [];
  for (let start = 0; start < items.length; start += size) result.push(items.slice(start, start + size));
  return result;
}

@Injectable()
export class SlaRollupsRepository {
  private readonly postgres: boolean;

  constructor(@Inject(DATABASE) private readonly db: Db<SlaTables>) {
    this.postgres = isPostgres(db);
  }

  /**
   * Adds deltas to the minute, hour and day rows they fall in, inside the caller's
   * transaction (the consumer's, so each record counts exactly once).
   */
  async applyDeltas(trx: Tx<SlaTables>, deltas: RollupDeltas, now: number): Promise<void> {
    if (deltas.size === 0) return;
    if (this.postgres) await sql`select pg_advisory_xact_lock(${ROLLUP_LOCK_KEY})`.execute(trx);
    for (const resolution of RESOLUTIONS) {
      const merged = new Map<string, MergedRow>();
      for (const delta of deltas.values()) {
        const bucket = bucketOf(delta.minute, resolution);
        const key = `${bucket}\u0000${delta.service}`;
        const row = merged.get(key);
        if (!row) {
          const sketch = new LatencySketch();
          sketch.merge(delta.sketch);
          merged.set(key, { resolution, bucket_start: bucket, service: delta.service, total: delta.total, failed: delta.failed, first_event_at: delta.firstEventAt, sketch });
          continue;
        }
        row.total += delta.total;
        row.failed += delta.failed;
        row.first_event_at = Math.min(row.first_event_at, delta.firstEventAt);
        row.sketch.merge(delta.sketch);
      }
      await this.mergeExisting(trx, resolution, merged);
      const rows = [...merged.values()].map((row) => ({
        resolution: row.resolution,
        bucket_start: row.bucket_start,
        service: row.service,
        total: row.total,
        failed: row.failed,
        first_event_at: row.first_event_at,
        sketch: row.sketch.encode(),
        exact_ms: row.sketch.encodeExact(),
        updated_at: now,
        revision: randomInt(2 ** 47),
      }));
      for (const chunk of chunks(rows, ROWS_PER_STATEMENT)) {
        await trx
          .insertInto('sla_rollups')
          .values(chunk)
          .onConflict((conflict) =>
            conflict.columns(['resolution', 'bucket_start', 'service']).doUpdateSet((eb) => ({
              total: eb.ref('excluded.total'),
              failed: eb.ref('excluded.failed'),
              first_event_at: eb.ref('excluded.first_event_at'),
              sketch: eb.ref('excluded.sketch'),
              exact_ms: eb.ref('excluded.exact_ms'),
              updated_at: eb.ref('excluded.updated_at'),
              revision: eb.ref('excluded.revision'),
            })),
          )
          .execute();
      }
    }
  }

  private async mergeExisting(trx: Tx<SlaTables>, resolution: RollupResolution, merged: Map<string, MergedRow>): Promise<void> {
    const services = [...new Set([...merged.values()].map((row) => row.service))];
    const buckets = [...new Set([...merged.values()].map((row) => row.bucket_start))];
    for (const serviceChunk of chunks(services, KEYS_PER_LOOKUP)) {
      for (const bucketChunk of chunks(buckets, KEYS_PER_LOOKUP)) {
        const existing = await trx
          .selectFrom('sla_rollups')
          .select(['bucket_start', 'service', 'total', 'failed', 'first_event_at', 'sketch', 'exact_ms'])
          .where('resolution', '=', resolution)
          .where('service', 'in', serviceChunk)
          .where('bucket_start', 'in', bucketChunk)
          .execute();
        for (const stored of existing) {
          const row = merged.get(`${Number(stored.bucket_start)}\u0000${stored.service}`);
          if (!row) continue;
          row.total += Number(stored.total);
          row.failed += Number(stored.failed);
          row.first_event_at = Math.min(row.first_event_at, Number(stored.first_event_at));
          row.sketch.mergeStored(stored.sketch, stored.exact_ms);
        }
      }
    }
  }

  /** Rows of one resolution range, optionally of one service, with or without sketches. */
  async rangeRows(range: ResolutionRange, options: { service?: string; withSketch: boolean; buckets?: number[] }, executor: Executor<SlaTables> = this.db): Promise<RollupRow[]> {
    let query = executor
      .selectFrom('sla_rollups')
      .select(['service', 'resolution', 'bucket_start', 'total', 'failed', 'first_event_at', 'revision'])
      .where('resolution', '=', range.resolution)
      .where('bucket_start', '>=', range.from)
      .where('bucket_start', '<', range.to);
    if (options.service !== undefined) query = query.where('service', '=', options.service);
    if (options.buckets !== undefined) query = query.where('bucket_start', 'in', options.buckets);
    const rows = options.withSketch ? await query.select(['sketch', 'exact_ms']).execute() : await query.execute();
    return rows.map((row) => ({
      revision: Number(row.revision),
      service: row.service,
      resolution: row.resolution,
      bucket_start: Number(row.bucket_start),
      total: Number(row.total),
      failed: Number(row.failed),
      first_event_at: Number(row.first_event_at),
      sketch: 'sketch' in row ? (row.sketch as Buffer) : undefined,
      exact_ms: 'exact_ms' in row ? (row.exact_ms as Buffer | null) : undefined,
    }));
  }

  /** Sums per service over one resolution range (no sketches): what count-only windows need. */
  async rangeCounts(range: ResolutionRange, service?: string, executor: Executor<SlaTables> = this.db): Promise<Array<{ service: string; total: number; failed: number; first_event_at: number }>> {
    let query = executor
      .selectFrom('sla_rollups')
      .select((eb) => [
        'service',
        eb.fn.sum<number>('total').as('total'),
        eb.fn.sum<number>('failed').as('failed'),
        eb.fn.min<number>('first_event_at').as('first_event_at'),
      ])
      .where('resolution', '=', range.resolution)
      .where('bucket_start', '>=', range.from)
      .where('bucket_start', '<', range.to)
      .groupBy('service');
    if (service !== undefined) query = query.where('service', '=', service);
    const rows = await query.execute();
    return rows.map((row) => ({ service: row.service, total: Number(row.total), failed: Number(row.failed), first_event_at: Number(row.first_event_at) }));
  }

  /** Services with any rollup since `since` (day rows: one per service and day). */
  async servicesSince(since: number, service?: string): Promise<string[]> {
    let query = this.db
      .selectFrom('sla_rollups')
      .select('service')
      .distinct()
      .where('resolution', '=', 'day')
      .where('bucket_start', '>=', bucketOf(since, 'day'));
    if (service !== undefined) query = query.where('service', '=', service);
    return (await query.execute()).map((row) => row.service);
  }

  async deleteBefore(cutoff: number): Promise<number> {
    const result = await this.db.deleteFrom('sla_rollups').where('resolution', 'in', RESOLUTIONS).where('bucket_start', '<', cutoff).executeTakeFirst();
    return Number(result.numDeletedRows);
  }
}
