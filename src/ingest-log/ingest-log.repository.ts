import { Inject, Injectable, Optional } from '@nestjs/common';
import { sql } from 'kysely';
import type { Statement } from 'better-sqlite3';
import type { Db, Executor, Tx } from '../storage/database.js';
import { DATABASE, isPostgres, rawSqliteOf } from '../storage/database.provider.js';
import type { IngestKind } from './ingest-log.items.js';
import type { IngestLogTables } from './ingest-log.tables.js';
import type { LogEntry, NewLogEntry } from './log-entry.js';
import { forEachEntryOf, pushEntriesOfRun, type StoredRun } from './stored-run.read.js';
import { RecentEntries } from './recent-entries.js';
import { INSERT_COLUMNS, POSTGRES_ROWS_PER_STATEMENT, PostgresLogAppends, type RowValues } from './ingest-log.postgres.js';
import type { AppConfig } from '../config/app.config.js';
import { APP_CONFIG } from '../config/config.module.js';
import { DEFAULT_MEMORY_BUDGET_MEBIBYTES, memoryBudgetOf } from '../config/memory-budget.js';

/** What append() wrote, to hand to committed() once its transaction has committed. */
export interface AppendedEntries {
  firstId: number;
  entries: readonly NewLogEntry[];
  /** Each entry's stored JSON. */
  payloads: readonly string[];
  receivedAt: number;
  generation: number;
}

/**
 * Entries one row holds at most (see IngestLogTable): bounds a row's size, and what a
 * read that needs one entry of a run loads and splits.
 */
export const INGEST_LOG_RUN_ENTRIES = 1000;
// SQLite appends bind this many rows per statement call: one call per row spent
// as much time crossing into the native binding as inserting (measured ~30 %
// less per row at 64 than at 1); larger statements gained nothing more. Runs of
// one entry (analytics, one user per item) still come in such numbers.
const SQLITE_ROWS_PER_CALL = 64;
const COLUMNS = 9;
// Entries a query reading runs back fetches at most (in whole rows, estimated from the
// rows read so far): pages of thousand-entry runs stay a few rows, pages of one-entry
// rows (analytics, one user per item) grow to thousands of rows rather than 64.
const MAX_ENTRIES_PER_PAGE = 5000;
// The newest entries are kept in memory (RecentEntries) for consumers that keep up or trail by
// a burst, within the memory budget's share (src/config/memory-budget.ts: a sixteenth, 24 MiB and
// ~126,000 small metric items at the default). It was 500,000 entries (~100 MiB of heap) before
// the budget; at 100,000 the anomaly consumer fell out of the window within a second of 1000-point
// batch load, and reading its entries back from the store took a fifth of the request thread.

const RUN_COLUMNS = ['id', 'kind', 'received_at', 'event_time', 'payload', 'entry_count', 'event_times'] as const satisfies ReadonlyArray<keyof StoredRun>;

/** One row to write: entries [start, end) of an append, which share kind and user. */
interface Run {
  start: number;
  end: number;
}

/** Consecutive entries of one kind and one user (or none), at most INGEST_LOG_RUN_ENTRIES each. */
function runsOf(entries: readonly NewLogEntry[]): Run[] {
  const runs: Run[] = [];
  let start = 0;
  for (let index = 1; index <= entries.length; index++) {
    const entry = entries[index];
    const first = entries[start]!;
    if (entry === undefined || index - start === INGEST_LOG_RUN_ENTRIES || entry.kind !== first.kind || entry.userId !== first.userId) {
      runs.push({ start, end: index });
      start = index;
    }
  }
  return runs;
}

/** The column values of one run's row, in INSERT_COLUMNS order. */
function runRow(entries: readonly NewLogEntry[], payloads: readonly string[], run: Run, firstId: number, receivedAt: number) {
  const first = entries[run.start]!;
  const count = run.end - run.start;
  let eventTimes: string | null = null;
  if (count > 1) {
    // JSON.stringify writes each (finite) number as String() does, straight into one text: ~30 %
    // less time than appending them one by one, and no string a time.
    const times = new Array<number>(count);
    for (let index = 0; index < count; index++) times[index] = entries[run.start + index]!.eventTime;
    eventTimes = JSON.stringify(times).slice(1, -1);
  }
  const payload = count === 1 ? payloads[run.start]! : payloads.slice(run.start, run.end).join('\n');
  const payloadLength = payload.length - (count - 1);
  return [firstId + run.end - 1, first.kind, receivedAt, first.eventTime, first.userId, payload, count, eventTimes, payloadLength] as const;
}

/** The stored JSON of each entry: the text ingest wrote for it, else its item's. */
function payloadsOf(entries: readonly NewLogEntry[]): string[] {
  return entries.map((entry) => entry.json ?? JSON.stringify(entry.item));
}

/** The rows of `runs` with ids counted from 0, as PostgresLogAppends takes them. */
function postgresRows(entries: readonly NewLogEntry[], payloads: readonly string[], runs: readonly Run[], receivedAt: number): RowValues[] {
  return runs.map((run) => runRow(entries, payloads, run, 0, receivedAt));
}

@Injectable()
export class IngestLogRepository {
  private readonly postgres: boolean;
  private readonly sqlite:
    | { insertOne: Statement; insertMany: Statement; parameters: unknown[]; lastAssignedId: Statement }
    | undefined;
  /**
   * The newest entries this process appended (RecentEntries: one run of consecutive ids). On
   * SQLite every id is appended here. On Postgres other replicas append too: their ids leave a
   * gap, and a read that reaches one goes to the store. Also on Postgres, appends naming a user
   * are left out (a gap too): an erasure on another replica could not clear this window, and
   * it must never serve an entry the store no longer holds.
   */
  private readonly recent: RecentEntries;
  /**
   * SQLite only, for consumers of kinds that are rare in the log: the highest id appended per
   * kind by this process (rolled back appends included, which only makes it larger), and
   * below it `anyKindThrough`: the highest id when first needed, up to which any kind may be.
   * A read whose range holds no id of its kinds is answered without scanning the store (an
   * SLA consumer woken once a second behind 150,000 new metric entries scanned all of them).
   */
  private readonly lastIdOfKind = new Map<IngestKind, number>();
  private anyKindThrough: number | undefined;
  /** Postgres: its appends (ingest-log.postgres.ts). */
  private readonly postgresAppends: PostgresLogAppends | undefined;

  /** `config`: its memory budget sizes the window of recent entries (without one, the default budget's). */
  constructor(
    @Inject(DATABASE) private readonly db: Db<IngestLogTables>,
    @Optional() @Inject(APP_CONFIG) config?: AppConfig,
  ) {
    this.postgres = isPostgres(db);
    if (this.postgres) this.postgresAppends = new PostgresLogAppends(db);
    const connection = rawSqliteOf(db);
    if (connection) {
      const insert = (rows: number) => connection.prepare(`insert into ingest_log ${INSERT_COLUMNS} values ${Array(rows).fill(`(${Array(COLUMNS).fill('?').join(', ')})`).join(', ')}`);
      this.sqlite = {
        insertOne: insert(1),
        insertMany: insert(SQLITE_ROWS_PER_CALL),
        parameters: new Array(SQLITE_ROWS_PER_CALL * COLUMNS),
        // AUTOINCREMENT's high-water mark: ids are never reused, even after retention emptied the table.
        lastAssignedId: connection.prepare(`select seq from sqlite_sequence where name = 'ingest_log'`).pluck(),
      };
    }
    this.recent = RecentEntries.withinBytes((config?.memory ?? memoryBudgetOf(DEFAULT_MEMORY_BUDGET_MEBIBYTES)).recentEntriesBytes);
  }

  /**
   * Appends entries, with consecutive ids, inside the caller's transaction (which, on
   * Postgres, then holds the append lock until it ends: keep such transactions short).
   * Pass the result to committed() after the transaction commits to let consumers read
   * these entries from memory; not doing so only costs them a read of the store.
   */
  async append(trx: Tx<IngestLogTables>, entries: readonly NewLogEntry[], receivedAt: number): Promise<AppendedEntries | undefined> {
    if (entries.length === 0) return undefined;
    const payloads = payloadsOf(entries);
    const runs = runsOf(entries);
    // The hottest write of the service gets a fast path per store. SQLite: two statements
    // prepared once (64 rows, 1 row), run on the connection that holds Kysely's open
    // transaction. Postgres: multi-row VALUES under the append lock (ingest-log.postgres.ts).
    if (this.sqlite) {
      const { insertOne, insertMany, parameters, lastAssignedId } = this.sqlite;
      // This connection is the only writer and holds the write lock: no other id can come between.
      const firstId = Number((lastAssignedId.get() as number | undefined) ?? 0) + 1;
      let next = 0;
      for (; next + SQLITE_ROWS_PER_CALL <= runs.length; next += SQLITE_ROWS_PER_CALL) {
        for (let row = 0; row < SQLITE_ROWS_PER_CALL; row++) {
          const values = runRow(entries, payloads, runs[next + row]!, firstId, receivedAt);
          for (let column = 0; column < COLUMNS; column++) parameters[row * COLUMNS + column] = values[column];
        }
        insertMany.run(parameters);
      }
      for (; next < runs.length; next++) insertOne.run(...runRow(entries, payloads, runs[next]!, firstId, receivedAt));
      parameters.fill(undefined);
      // A run holds one kind, so its last entry is the only candidate of the run.
      for (const run of runs) {
        const kind = entries[run.start]!.kind;
        const lastId = firstId + run.end - 1;
        if ((this.lastIdOfKind.get(kind) ?? 0) < lastId) this.lastIdOfKind.set(kind, lastId);
      }
      return { firstId, entries, payloads, receivedAt, generation: this.recent.generation };
    }
    if (!this.postgresAppends) throw new Error('IngestLogRepository needs a store opened by openDatabase()');
    const firstId = await this.postgresAppends.appendInTransaction(trx, postgresRows(entries, payloads, runs, receivedAt), entries.length);
    return { firstId, entries, payloads, receivedAt, generation: this.recent.generation };
  }

  /**
   * Appends entries in a transaction of their own, durably committed when this resolves (ingest's
   * group commit). On Postgres the append lock is held for one statement and its commit, not
   * across round trips (PostgresLogAppends.appendCommitted). Pass the result to committed().
   */
  async appendCommitted(entries: readonly NewLogEntry[], receivedAt: number): Promise<AppendedEntries | undefined> {
    if (entries.length === 0) return undefined;
    // SQLite, or more rows than one statement takes: a transaction around append().
    const inTransaction = () => this.db.transaction().execute((trx) => this.append(trx, entries, receivedAt));
    if (!this.postgresAppends) return inTransaction();
    const runs = runsOf(entries);
    if (runs.length > POSTGRES_ROWS_PER_STATEMENT) return inTransaction();
    const payloads = payloadsOf(entries);
    const firstId = await this.postgresAppends.appendCommitted(postgresRows(entries, payloads, runs, receivedAt), entries.length);
    return { firstId, entries, payloads, receivedAt, generation: this.recent.generation };
  }

  /** The estimated heap bytes of the window of recent entries. */
  get recentEntriesBytes(): number {
    return this.recent.bytes;
  }

  /** The transaction that appended these entries has committed. */
  committed(appended: AppendedEntries | undefined): void {
    if (appended === undefined) return;
    if (this.postgres && appended.entries.some((entry) => entry.userId !== null)) return;
    this.recent.add(appended);
  }

  async highestId(executor: Executor<IngestLogTables> = this.db): Promise<number> {
    const row = await executor.selectFrom('ingest_log').select((eb) => eb.fn.max('id').as('id')).executeTakeFirst();
    return Number(row?.id ?? 0);
  }

  /**
   * Entries of the given kinds with position < id <= upTo, in id order, at most
   * `limit`. Reading up to a fixed high-water mark lets a consumer advance past
   * rows of other kinds that it scanned and skipped.
   */
  async readAfter<Kind extends IngestKind>(
    executor: Executor<IngestLogTables>,
    position: number,
    upTo: number,
    kinds: readonly Kind[],
    limit: number,
  ): Promise<Array<LogEntry<Kind>>> {
    if (limit <= 0) return [];
    const recent = this.recent.read(position, upTo, kinds, limit);
    if (recent) return recent;
    if (this.sqlite) {
      this.anyKindThrough ??= await this.highestId(executor);
      if (this.anyKindThrough <= position && kinds.every((kind) => (this.lastIdOfKind.get(kind) ?? 0) <= position)) return [];
    }
    const entries: Array<LogEntry<Kind>> = [];
    for await (const row of this.runsHolding(executor, position, upTo, kinds, limit)) {
      // The row was selected by `kind in kinds`.
      pushEntriesOfRun(row, row.kind as Kind, position, upTo, limit - entries.length, entries);
      if (entries.length >= limit) break;
    }
    return entries;
  }

  /** Count and stored bytes of the entries of `kinds` with after < id <= upTo: part of a queue's depth. */
  async countBetween(after: number, upTo: number, kinds: readonly IngestKind[]): Promise<{ items: number; bytes: number }> {
    if (upTo <= after) return { items: 0, bytes: 0 };
    // Runs wholly inside the range are summed by the store; the (at most two) runs that cross
    // an end of it are split here.
    const whole = await this.db
      .selectFrom('ingest_log')
      .select((eb) => [
        eb.fn.sum<number>('entry_count').as('items'),
        // Rows from before runs hold one entry, measured by the store (characters, not UTF-16 units).
        eb.fn.sum<number>(sql`coalesce(payload_length, length(payload))`).as('bytes'),
      ])
      .where('id', '>', after)
      .where('id', '<=', upTo)
      .where(sql<boolean>`id - entry_count >= ${after}`)
      .where('kind', 'in', kinds)
      .executeTakeFirst();
    let items = Number(whole?.items ?? 0);
    let bytes = Number(whole?.bytes ?? 0);
    const crossing = new Map<number, StoredRun>();
    for (const end of [after, upTo]) for (const row of await this.runsCrossing(end, kinds)) crossing.set(Number(row.id), row);
    for (const row of crossing.values()) {
      forEachEntryOf(row, after, upTo, (_id, _eventTime, payload) => {
        items++;
        bytes += payload.length;
      });
    }
    return { items, bytes };
  }

  /** Receipt time of the first entry of `kinds` after `position`, null when none. */
  async oldestReceivedAfter(position: number, kinds: readonly IngestKind[]): Promise<number | null> {
    const row = await this.db
      .selectFrom('ingest_log')
      .select('received_at')
      .where('id', '>', position)
      .where('kind', 'in', kinds)
      .orderBy('id')
      .limit(1)
      .executeTakeFirst();
    return row ? Number(row.received_at) : null;
  }

  /** Ids and stored sizes of the oldest entries of `kinds` with position < id <= upTo. */
  async entrySizesAfter(position: number, upTo: number, kinds: readonly IngestKind[], limit: number): Promise<Array<{ id: number; bytes: number }>> {
    const sizes: Array<{ id: number; bytes: number }> = [];
    if (limit <= 0) return sizes;
    for await (const row of this.runsHolding(this.db, position, upTo, kinds, limit)) {
      forEachEntryOf(row, position, upTo, (id, _eventTime, payload) => {
        sizes.push({ id, bytes: payload.length });
        return sizes.length < limit;
      });
      if (sizes.length >= limit) break;
    }
    return sizes;
  }

  /**
   * In id order, the rows of `kinds` holding an entry with position < id <= upTo, fetched in
   * pages sized for `wanted` entries: one row may hold a thousand, and a read for 5,000
   * entries that fetched 64 such rows would load and throw away ten times what it used.
   */
  private async *runsHolding(executor: Executor<IngestLogTables>, position: number, upTo: number, kinds: readonly IngestKind[], wanted: number): AsyncGenerator<StoredRun> {
    let remaining = wanted;
    let entriesPerRow = INGEST_LOG_RUN_ENTRIES;
    for (let after = position; ; ) {
      const pageRows = Math.max(2, Math.min(Math.ceil(remaining / entriesPerRow) + 1, Math.ceil(MAX_ENTRIES_PER_PAGE / entriesPerRow)));
      const rows = await this.runsBetween(executor, after, upTo, kinds).orderBy('id').limit(pageRows).execute();
      yield* rows;
      if (rows.length < pageRows) return;
      const entries = rows.reduce((sum, row) => sum + Number(row.entry_count), 0);
      remaining = Math.max(1, remaining - entries);
      entriesPerRow = Math.max(1, entries / rows.length);
      after = Number(rows[rows.length - 1]!.id);
    }
  }

  /** The row of `kinds`, if any, whose run holds both `position` and the entry after it. */
  private async runsCrossing(position: number, kinds: readonly IngestKind[]): Promise<StoredRun[]> {
    return this.runsBetween(this.db, position, position, kinds).execute();
  }

  /** Rows of `kinds` whose run ends after `after` and starts at or before `through`. */
  private runsBetween(executor: Executor<IngestLogTables>, after: number, through: number, kinds: readonly IngestKind[]) {
    return (
      executor
        .selectFrom('ingest_log')
        .select(RUN_COLUMNS)
        .where('id', '>', after)
        // A run's last id is less than INGEST_LOG_RUN_ENTRIES past its first: this bounds the
        // scan, while the next condition picks the rows whose first entry is at most `through`.
        .where('id', '<', through + INGEST_LOG_RUN_ENTRIES)
        .where(sql<boolean>`id - entry_count < ${through}`)
        .where('kind', 'in', kinds)
    );
  }

  /**
   * The highest id received before `cutoff`, found by binary search over the
   * primary key (ids and receipt times grow together), so retention needs no
   * index on received_at, which would slow every ingest commit.
   */
  async lastIdReceivedBefore(cutoff: number): Promise<number> {
    const bounds = await this.db
      .selectFrom('ingest_log')
      .select((eb) => [eb.fn.min('id').as('low'), eb.fn.max('id').as('high')])
      .executeTakeFirst();
    if (bounds?.low === null || bounds?.low === undefined) return 0;
    let low = Number(bounds.low) - 1; // invariant: every id <= low was received before cutoff
    let high = Number(bounds.high);
    while (low < high) {
      const middle = Math.floor((low + high + 1) / 2);
      const row = await this.db
        .selectFrom('ingest_log')
        .select(['id', 'received_at'])
        .where('id', '>=', middle)
        .orderBy('id')
        .limit(1)
        .executeTakeFirst();
      if (row && Number(row.received_at) < cutoff) low = Math.max(middle, Number(row.id));
      else high = middle - 1;
    }
    return low;
  }

  /**
   * Deletes the rows whose entries all have id <= upTo, in the span of `span` ids from the
   * lowest (a run crossing upTo stays whole). Returns the entries deleted (fewer than the
   * span covers where ids are missing, after an erasure or a rolled back append) and whether
   * the span reached `upTo`: the count alone cannot say so.
   */
  async deleteThrough(upTo: number, span: number): Promise<{ deleted: number; done: boolean }> {
    const lowest = await this.db.selectFrom('ingest_log').select((eb) => eb.fn.min('id').as('id')).executeTakeFirst();
    if (lowest?.id === null || lowest?.id === undefined || Number(lowest.id) > upTo) return { deleted: 0, done: true };
    const bound = Math.min(upTo, Number(lowest.id) + span - 1);
    const deleted = await this.db.deleteFrom('ingest_log').where('id', '<=', bound).returning('entry_count').execute();
    return { deleted: deleted.reduce((sum, row) => sum + Number(row.entry_count), 0), done: bound >= upTo };
  }

  /** Erases every entry that names this user (privacy erasure); returns how many. */
  async deleteUser(executor: Executor<IngestLogTables>, userId: string): Promise<number> {
    this.recent.clear();
    const deleted = await executor.deleteFrom('ingest_log').where('user_id', '=', userId).returning('entry_count').execute();
    return deleted.reduce((sum, row) => sum + Number(row.entry_count), 0);
  }
}
