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
// SQLSTATEs saying the flush barrier cannot be used by this role or server.
const INSUFFICIENT_PRIVILEGE = '42501';
const UNDEFINED_FUNCTION = '42883';

/**
 * A row's values in INSERT_COLUMNS order, its id counted from 0: the index in the append of the
 * run's last entry. The append turns it into the stored id.
 */
export type RowValues = readonly [number, ...unknown[]];

export class PostgresLogAppends {
  /** Whether the flush barrier works on this store, once known. */
  private barrierAvailable: boolean | undefined;

  constructor(private readonly db: Db<IngestLogTables>) {}

  /**
   * Appends `count` entries held by `rows` inside the caller's transaction, which then holds the
   * append lock until it ends (keep such transactions short); returns the first id.
   */
  async appendInTransaction(trx: Tx<IngestLogTables>, rows: readonly RowValues[], count: number): Promise<number> {
    // One round trip takes the append lock and reserves the whole id range: the lock makes this
    // the only use of the sequence until commit (the materialised CTE is read, taking the lock,
    // before setval runs).
    const reserved = await sql<{ last: number }>`
      with locked as materialized (select pg_advisory_xact_lock(${APPEND_LOCK_KEY}))
      select setval(pg_get_serial_sequence('ingest_log', 'id'), nextval(pg_get_serial_sequence('ingest_log', 'id')) + ${count - 1}) as last
      from locked`.execute(trx);
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
   * of their own, durably committed when this resolves; returns the first id.
   *
   * Two statements. The first is the append in its own implicit transaction: the lock, the id
   * reservation and the insert run without a round trip to this process in between, and it
   * commits without waiting for the WAL flush (synchronous_commit off for it alone). The lock is
   * still released only once the commit is visible, so ids become visible in id order; but it is
   * held for the statement alone. In a transaction of four round trips (begin, reserve, insert,
   * commit), each waiting on a busy event loop, and then the flush (~2.6 ms an fdatasync here),
   * every other replica's commit queued behind it. The second is the flush barrier: it returns
   * once the WAL up to and past the append's commit is flushed, and the replicas' barriers share
   * flushes. Only then may the caller acknowledge. A consumer may read the entries before the
   * barrier returns; what it derives commits synchronously after them in the WAL, so it is never
   * durable without them.
   */
  async appendCommitted(rows: readonly RowValues[], count: number): Promise<number> {
    if (rows.length > POSTGRES_ROWS_PER_STATEMENT) throw new Error(`appendCommitted takes at most ${POSTGRES_ROWS_PER_STATEMENT} rows`);
    const barrier = await this.flushBarrierAvailable();
    // Each row's id is the reserved range's last id less the entries after its run. The CTEs run
    // once each, in the order they read one another: the setting, the lock, the reservation,
    // then the rows that read it.
    const last = sql`(select last from reserved)`;
    const values = rows.map(([id, ...columns]) => sql`(${last} - ${count - 1 - id}, ${sql.join(columns)})`);
    const inserted = await sql<{ id: number }>`
      with setting as materialized (select set_config('synchronous_commit', ${barrier ? 'off' : 'on'}, true)),
      locked as materialized (select pg_advisory_xact_lock(${APPEND_LOCK_KEY}) from setting),
      reserved as materialized (
        select setval(pg_get_serial_sequence('ingest_log', 'id'), nextval(pg_get_serial_sequence('ingest_log', 'id')) + ${count - 1}) as last
        from locked)
      insert into ingest_log ${sql.raw(INSERT_COLUMNS)} values ${sql.join(values)}
      returning id`.execute(this.db);
    if (barrier) await this.flushBarrier();
    let lastId = 0;
    for (const row of inserted.rows) lastId = Math.max(lastId, Number(row.id));
    return lastId - count + 1;
  }

  /**
   * Returns once the WAL written so far is flushed (and, with synchronous replication, confirmed):
   * a transactional logical message takes a transaction id and writes a record, so its commit is
   * a synchronous one that flushes everything before it.
   */
  private async flushBarrier(): Promise<void> {
    await sql`select pg_logical_emit_message(true, 'vigil', 'ingest-log flush')`.execute(this.db);
  }

  /**
   * Whether the flush barrier works here: pg_logical_emit_message may be revoked from Vigil's role
   * (or missing). Tried on the first append; without it appends commit synchronously under the
   * lock. Any other failure (the store unreachable) is the append's, and the next one tries again.
   */
  private async flushBarrierAvailable(): Promise<boolean> {
    if (this.barrierAvailable !== undefined) return this.barrierAvailable;
    if (process.env['EXPERIMENT_NO_BARRIER'] === '1') return (this.barrierAvailable = false); // EXPERIMENT
    try {
      await this.flushBarrier();
      this.barrierAvailable = true;
    } catch (error) {
      const code = (error as { code?: unknown }).code;
      if (code !== INSUFFICIENT_PRIVILEGE && code !== UNDEFINED_FUNCTION) throw error;
      this.barrierAvailable = false;
    }
    return this.barrierAvailable;
  }
}
