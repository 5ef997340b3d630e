import { sql } from 'kysely';
import type { Db, Tx } from '../storage/database.js';
import type { IngestLogTables } from './ingest-log.tables.js';

/**
 * The ingest log's appends on Postgres, where several replicas append to one table and consumers
 * read it by id: ids must become visible in id order, so that a consumer that has read up to id N
 * never later finds a smaller id committed. Every append takes one advisory lock, reserves its id
 * range under it and holds it until its commit is visible (a transaction-level lock is released
 * after that). The SQLite path and the rows' layout are IngestLogRepository's.
 */

/** The columns of a row, in the order IngestLogRepository gives their values. */
export const INSERT_COLUMNS = '(id, kind, received_at, event_time, user_id, payload, entry_count, event_times, payload_length)';
/**
 * Rows one statement inserts at most (9 parameters a row, under the protocol's 65,535). A
 * 1000-point batch is one row; only one-entry runs (analytics, one user per item) come in such
 * numbers.
 */
export const POSTGRES_ROWS_PER_STATEMENT = 1000;
const APPEND_LOCK_KEY = 7_021_977;
/** A CTE `locked` that takes the append lock (materialised: read once, before what reads it). */
const APPEND_LOCK = sql`locked as materialized (select pg_advisory_xact_lock(${APPEND_LOCK_KEY}))`;
/** Reserves `count` ids after the lock is taken (it reads `locked`); selects `last`, the range's last id. */
const reserveIds = (count: number) =>
  sql<{ last: number }>`select setval(pg_get_serial_sequence('ingest_log', 'id'), nextval(pg_get_serial_sequence('ingest_log', 'id')) + ${count - 1}) as last from locked`;

/**
 * A row's values in INSERT_COLUMNS order, its id counted from 0: the index in the append of the
 * run's last entry. The append turns it into the stored id.
 */
export type RowValues = readonly [number, ...unknown[]];

export class PostgresLogAppends {
  constructor(private readonly db: Db<IngestLogTables>) {}

  /**
   * Appends `count` entries held by `rows` inside the caller's transaction, which then holds the
   * append lock until it ends (keep such transactions short); returns the first id.
   */
  async appendInTransaction(trx: Tx<IngestLogTables>, rows: readonly RowValues[], count: number): Promise<number> {
    // One round trip takes the append lock and reserves the whole id range: the lock makes this
    // the only use of the sequence until commit (the materialised CTE is read, taking the lock,
    // before setval runs).
    const reserved = await sql<{ last: number }>`with ${APPEND_LOCK} ${reserveIds(count)}`.execute(trx);
    const firstId = Number(reserved.rows[0]!.last) - count + 1;
    // Rows as VALUES with one parameter per column: the unnest() of array parameters this
    // replaced made pg quote every payload into an array literal and the server parse it back,
    // 94 ms against 27 ms for a commit of five 1000-entry runs on this machine.
    for (let next = 0; next < rows.length; next += POSTGRES_ROWS_PER_STATEMENT) {
      const values = rows.slice(next, next + POSTGRES_ROWS_PER_STATEMENT).map(([id, ...columns]) => sql`(${sql.join([firstId + id, ...columns])})`);
      await sql`insert into ingest_log ${sql.raw(INSERT_COLUMNS)} values ${sql.join(values)}`.execute(trx);
    }
    return firstId;
  }

  /**
   * Appends `count` entries held by `rows` (at most POSTGRES_ROWS_PER_STATEMENT) in a transaction
   * of their own, committed when this resolves; returns the first id.
   *
   * One statement in its own implicit transaction: the lock, the id reservation and the insert run
   * without a round trip to this process in between, so the lock is held for the statement and its
   * commit (the WAL flush, ~2.6 ms an fdatasync on this machine) only. In a transaction of four
   * round trips (begin, reserve, insert, commit), each waiting on a busy event loop, the lock was
   * held ~10 ms a commit with three replicas taking single items, and every other replica's commit
   * queued behind it. (Tried and dropped: committing with synchronous_commit off under the lock and
   * then waiting for the flush outside it, with a transactional logical message committed
   * synchronously: the flushes of the replicas could then be shared, but on this 2-core machine the
   * extra round trip cost more CPU a request than the shared flushes gave back; BENCHMARKS.md.)
   */
  async appendCommitted(rows: readonly RowValues[], count: number): Promise<number> {
    if (rows.length > POSTGRES_ROWS_PER_STATEMENT) throw new Error(`appendCommitted takes at most ${POSTGRES_ROWS_PER_STATEMENT} rows`);
    // Each row's id is the reserved range's last id less the entries after its run. The CTEs run
    // once each, in the order they read one another: the lock, the reservation, then the rows.
    const last = sql`(select last from reserved)`;
    const values = rows.map(([id, ...columns]) => sql`(${last} - ${count - 1 - id}, ${sql.join(columns)})`);
    const inserted = await sql<{ id: number }>`
      with ${APPEND_LOCK}, reserved as materialized (${reserveIds(count)})
      insert into ingest_log ${sql.raw(INSERT_COLUMNS)} values ${sql.join(values)}
      returning id`.execute(this.db);
    let lastId = 0;
    for (const row of inserted.rows) lastId = Math.max(lastId, Number(row.id));
    return lastId - count + 1;
  }
}
