import { Inject, Injectable } from '@nestjs/common';
import type { Db, Executor, Tx } from '../storage/database.js';
import type { AnomalyTables } from './anomalies.tables.js';
import { DATABASE } from '../storage/database.provider.js';

export interface NewAnomaly {
  logId: number;
  seriesId: string;
  metric: string;
  tags: Record<string, string>;
  pointTime: number;
  value: number;
  score: number;
  expected: number;
  severity: string;
  methods: string[];
}

/** An anomaly as read back: its row id instead of the log and series ids it was written with. */
export type StoredAnomaly = Omit<NewAnomaly, 'logId' | 'seriesId'> & { id: number };

export interface SeriesSnapshotRow {
  seriesId: string;
  source: string;
  metric: string;
  tags: Record<string, string>;
  snapshotId: number;
  /** Detector snapshot JSON; null: the detector as created (no point modelled yet at snapshotId). */
  state: string | null;
  counters: string;
}

export interface AnomalyQuery {
  metric: string | null;
  from: number | null;
  to: number | null;
  limit: number;
}

// Rows per statement: anomaly rows have 12 parameters (SQLite's limit is 32,766), series rows
// carry snapshots of up to ~40 KB each.
const ANOMALY_ROWS_PER_STATEMENT = 1000;
const SERIES_ROWS_PER_STATEMENT = 50;
const SERIES_ROWS_PER_READ = 500;
/** Names in anomaly_state: points of refused series; series evicted at the cap; the consumer's data time (see the consumer). */
export const POINTS_OVER_CAP = 'points_over_cap';
export const SERIES_EVICTED = 'series_evicted';
export const DATA_TIME = 'data_time';

/** Storage of the anomalies module: anomaly rows, series snapshots and module state. */
@Injectable()
export class AnomalyStoreRepository {
  constructor(@Inject(DATABASE) private readonly db: Db<AnomalyTables>) {}

  /** Inserts anomalies, ignoring any whose log entry already has one; returns the log ids really inserted. */
  async insertAnomalies(trx: Tx<AnomalyTables>, anomalies: readonly NewAnomaly[], now: number): Promise<Set<number>> {
    const inserted = new Set<number>();
    for (let start = 0; start < anomalies.length; start += ANOMALY_ROWS_PER_STATEMENT) {
      const rows = anomalies.slice(start, start + ANOMALY_ROWS_PER_STATEMENT).map((anomaly) => ({
        log_id: anomaly.logId,
        series_id: anomaly.seriesId,
        metric: anomaly.metric,
        tags: JSON.stringify(anomaly.tags),
        point_time: anomaly.pointTime,
        value: anomaly.value,
        score: anomaly.score,
        expected: anomaly.expected,
        severity: anomaly.severity,
        methods: JSON.stringify(anomaly.methods),
        detected_at: now,
      }));
      const returned = await trx
        .insertInto('anomalies')
        .values(rows)
        .onConflict((conflict) => conflict.column('log_id').doNothing())
        .returning('log_id')
        .execute();
      for (const row of returned) inserted.add(Number(row.log_id));
    }
    return inserted;
  }

  /** Creates or replaces series snapshots. */
  async saveSeries(trx: Tx<AnomalyTables>, series: readonly SeriesSnapshotRow[], now: number): Promise<void> {
    for (let start = 0; start < series.length; start += SERIES_ROWS_PER_STATEMENT) {
      const rows = series.slice(start, start + SERIES_ROWS_PER_STATEMENT).map((row) => ({
        series_id: row.seriesId,
        source: row.source,
        metric: row.metric,
        tags: JSON.stringify(row.tags),
        snapshot_id: row.snapshotId,
        state: row.state,
        counters: row.counters,
        updated_at: now,
      }));
      await trx
        .insertInto('anomaly_series')
        .values(rows)
        .onConflict((conflict) =>
          conflict.column('series_id').doUpdateSet((eb) => ({
            snapshot_id: eb.ref('excluded.snapshot_id'),
            state: eb.ref('excluded.state'),
            counters: eb.ref('excluded.counters'),
            updated_at: eb.ref('excluded.updated_at'),
          })),
        )
        .execute();
    }
  }

  /** Deletes the rows of evicted series (ids not stored are ignored). */
  async deleteSeries(trx: Tx<AnomalyTables>, seriesIds: readonly string[]): Promise<void> {
    for (let start = 0; start < seriesIds.length; start += ANOMALY_ROWS_PER_STATEMENT) {
      await trx.deleteFrom('anomaly_series').where('series_id', 'in', seriesIds.slice(start, start + ANOMALY_ROWS_PER_STATEMENT)).execute();
    }
  }

  /** Every stored series, in pages (keyset on series_id), to bound one read's memory. */
  async *allSeries(executor: Executor<AnomalyTables>): AsyncGenerator<SeriesSnapshotRow> {
    let after = '';
    for (;;) {
      const rows = await executor
        .selectFrom('anomaly_series')
        .select(['series_id', 'source', 'metric', 'tags', 'snapshot_id', 'state', 'counters'])
        .where('series_id', '>', after)
        .orderBy('series_id')
        .limit(SERIES_ROWS_PER_READ)
        .execute();
      for (const row of rows) {
        yield {
          seriesId: row.series_id,
          source: row.source,
          metric: row.metric,
          tags: JSON.parse(row.tags) as Record<string, string>,
          snapshotId: Number(row.snapshot_id),
          state: row.state,
          counters: row.counters,
        };
      }
      if (rows.length < SERIES_ROWS_PER_READ) return;
      after = rows[rows.length - 1]!.series_id;
    }
  }

  async stateValue(executor: Executor<AnomalyTables>, name: string): Promise<number> {
    return (await this.stateValueOrNull(executor, name)) ?? 0;
  }

  /** The named value; null when it was never set. */
  async stateValueOrNull(executor: Executor<AnomalyTables>, name: string): Promise<number | null> {
    const row = await executor.selectFrom('anomaly_state').select('value').where('name', '=', name).executeTakeFirst();
    return row === undefined ? null : Number(row.value);
  }

  async setStateValue(trx: Tx<AnomalyTables>, name: string, value: number): Promise<void> {
    await trx
      .insertInto('anomaly_state')
      .values({ name, value })
      .onConflict((conflict) => conflict.column('name').doUpdateSet({ value }))
      .execute();
  }

  /** Anomalies matching the query, newest point first. */
  async find(query: AnomalyQuery): Promise<StoredAnomaly[]> {
    let select = this.db
      .selectFrom('anomalies')
      .select(['id', 'metric', 'tags', 'point_time', 'value', 'score', 'expected', 'severity', 'methods']);
    if (query.metric !== null) select = select.where('metric', '=', query.metric);
    if (query.from !== null) select = select.where('point_time', '>=', query.from);
    if (query.to !== null) select = select.where('point_time', '<=', query.to);
    const rows = await select.orderBy('point_time', 'desc').orderBy('id', 'desc').limit(query.limit).execute();
    return rows.map((row) => ({
      id: Number(row.id),
      metric: row.metric,
      tags: JSON.parse(row.tags) as Record<string, string>,
      pointTime: Number(row.point_time),
      value: Number(row.value),
      score: Number(row.score),
      expected: Number(row.expected),
      severity: row.severity,
      methods: JSON.parse(row.methods) as string[],
    }));
  }
}
