import { Inject, Injectable } from '@nestjs/common';
import { sql } from 'kysely';
import type { Statement } from 'better-sqlite3';
import type { Db, Executor, IngestKind, Tx } from './database.js';
import { DATABASE, isPostgres, rawSqliteOf } from './database.provider.js';
import { logEntryOf } from './log-entry.js';
import { RecentEntries } from './recent-entries.js';

/** One accepted item, as appended to the ingest log. */
export interface NewLogEntry {
  kind: IngestKind;
  eventTime: number;
  userId: string | null;
  /**
   * The normalised item, a JSON value: append() stores it serialised. Once its
   * transaction commits it is frozen and shared with the consumers that read it
   * from memory, so the caller must not change it afterwards.
   */
  item: unknown;
}

/** What append() wrote, to hand to committed() once its transaction has committed. */
export interface AppendedEntries {
  firstId: number;
  entries: readonly NewLogEntry[];
  /** Each entry's stored JSON. */
  payloads: readonly string[];
  receivedAt: number;
  generation: number;
}

/** One item read back from the ingest log. */
export interface LogEntry<Payload = unknown> {
  id: number;
  kind: IngestKind;
  receivedAt: number;
  eventTime: number;
  /** Deeply frozen, and possibly shared with other consumers. */
  payload: Payload;
  /** Size of the stored JSON, for byte-bounded queues and batches. */
  bytes: number;
}

// 5 bound parameters a row keeps every statement under SQLite's and Postgres'
// parameter limits (32,766 and 65,535).
const ROWS_PER_STATEMENT = 2000;
// Serialises appends on Postgres so ids become visible in id order: a consumer
// that has read up to id N can never later find a smaller id committed.
const APPEND_LOCK_KEY = 7_021_977;
// SQLite appends bind this many rows per statement call: one call per row spent
// as much time crossing into the native binding as inserting (measured ~30 %
// less per row at 64 than at 1); larger statements gained nothing more.
const SQLITE_ROWS_PER_CALL = 64;
const COLUMNS = 5;
// Newest entries kept in memory for consumers that keep up: a few seconds of
// ingest at full speed, at most ~32 MiB of JSON text.
const RECENT_ENTRIES = 100_000;
const RECENT_CHARACTERS = 32 * 1024 * 1024;

@Injectable()
export class IngestLogRepository {
  private readonly postgres: boolean;
  private readonly sqliteInsert: { one: Statement; many: Statement; parameters: unknown[] } | undefined;
  /**
   * SQLite only: one process owns the file, so every id is appended here. On
   * Postgres other replicas append too, and consumers always read the store.
   */
  private readonly recent: RecentEntries | undefined;
  /**
   * SQLite only, for consumers of kinds that are rare in the log: the highest id appended per
   * kind by this process (rolled back appends included, which only makes it larger), and
   * below it `anyKindThrough`: the highest id when first needed, up to which any kind may be.
   * A read whose range holds no id of its kinds is answered without scanning the store (an
   * SLA consumer woken once a second behind 150,000 new metric entries scanned all of them).
   */
  private readonly lastIdOfKind = new Map<IngestKind, number>();
  private anyKindThrough: number | undefined;

  constructor(@Inject(DATABASE) private readonly db: Db) {
    this.postgres = isPostgres(db);
    const connection = rawSqliteOf(db);
    if (connection) {
      const insert = (rows: number) =>
        connection.prepare(`insert into ingest_log (kind, received_at, event_time, user_id, payload) values ${Array(rows).fill('(?, ?, ?, ?, ?)').join(', ')}`);
      this.sqliteInsert = { one: insert(1), many: insert(SQLITE_ROWS_PER_CALL), parameters: new Array(SQLITE_ROWS_PER_CALL * COLUMNS) };
      this.recent = new RecentEntries(RECENT_ENTRIES, RECENT_CHARACTERS);
    }
  }

  /**
   * Appends entries inside the caller's transaction (which, on Postgres, then
   * holds the append lock until it ends: keep such transactions short). Pass the
   * result to committed() after the transaction commits to let consumers read
   * these entries from memory; not doing so only costs them a read of the store.
   */
  async append(trx: Tx, entries: readonly NewLogEntry[], receivedAt: number): Promise<AppendedEntries | undefined> {
    if (entries.length === 0) return undefined;
    const payloads = entries.map((entry) => JSON.stringify(entry.item));
    // The hottest write of the service gets a fast path per store. SQLite: two
    // statements prepared once (64 rows, 1 row), run on the connection that holds
    // Kysely's open transaction (Kysely would prepare a new 5,000-parameter
    // statement for every batch, ~8x slower). Postgres: one unnest() insert with
    // five array parameters, whatever the batch size.
    if (this.sqliteInsert) {
      const { one, many, parameters } = this.sqliteInsert;
      let lastId = 0;
      let next = 0;
      for (; next + SQLITE_ROWS_PER_CALL <= entries.length; next += SQLITE_ROWS_PER_CALL) {
        for (let row = 0; row < SQLITE_ROWS_PER_CALL; row++) {
          const entry = entries[next + row]!;
          const offset = row * COLUMNS;
          parameters[offset] = entry.kind;
          parameters[offset + 1] = receivedAt;
          parameters[offset + 2] = entry.eventTime;
          parameters[offset + 3] = entry.userId;
          parameters[offset + 4] = payloads[next + row];
        }
        lastId = Number(many.run(parameters).lastInsertRowid);
      }
      for (; next < entries.length; next++) {
        const entry = entries[next]!;
        lastId = Number(one.run(entry.kind, receivedAt, entry.eventTime, entry.userId, payloads[next]).lastInsertRowid);
      }
      parameters.fill(undefined);
      // One connection writes, and AUTOINCREMENT gives each row the next id: the ids are consecutive.
      const firstId = lastId - entries.length + 1;
      for (let index = entries.length - 1; index >= 0; index--) {
        const kind = entries[index]!.kind;
        if ((this.lastIdOfKind.get(kind) ?? 0) < firstId + index) this.lastIdOfKind.set(kind, firstId + index);
      }
      return { firstId, entries, payloads, receivedAt, generation: this.recent!.generation };
    }
    if (this.postgres) {
      await sql`select pg_advisory_xact_lock(${APPEND_LOCK_KEY})`.execute(trx);
      await sql`insert into ingest_log (kind, received_at, event_time, user_id, payload)
        select kind, ${receivedAt}::bigint, event_time, user_id, payload
        from unnest(${entries.map((entry) => entry.kind)}::text[], ${entries.map((entry) => entry.eventTime)}::bigint[],
                    ${entries.map((entry) => entry.userId)}::text[], ${payloads}::text[])
             as appended(kind, event_time, user_id, payload)`.execute(trx);
      return undefined;
    }
    for (let start = 0; start < entries.length; start += ROWS_PER_STATEMENT) {
      const rows = entries.slice(start, start + ROWS_PER_STATEMENT).map((entry, index) => ({
        kind: entry.kind,
        received_at: receivedAt,
        event_time: entry.eventTime,
        user_id: entry.userId,
        payload: payloads[start + index]!,
      }));
      await trx.insertInto('ingest_log').values(rows).execute();
    }
    return undefined;
  }

  /** The transaction that appended these entries has committed. */
  committed(appended: AppendedEntries | undefined): void {
    if (appended) this.recent?.add(appended);
  }

  async highestId(executor: Executor = this.db): Promise<number> {
    const row = await executor.selectFrom('ingest_log').select((eb) => eb.fn.max('id').as('id')).executeTakeFirst();
    return Number(row?.id ?? 0);
  }

  /**
   * Entries of the given kinds with position < id <= upTo, in id order, at most
   * `limit`. Reading up to a fixed high-water mark lets a consumer advance past
   * rows of other kinds that it scanned and skipped.
   */
  async readAfter(
    executor: Executor,
    position: number,
    upTo: number,
    kinds: readonly IngestKind[],
    limit: number,
  ): Promise<LogEntry[]> {
    const recent = this.recent?.read(position, upTo, kinds, limit);
    if (recent) return recent;
    if (this.recent) {
      this.anyKindThrough ??= await this.highestId(executor);
      if (this.anyKindThrough <= position && kinds.every((kind) => (this.lastIdOfKind.get(kind) ?? 0) <= position)) return [];
    }
    const rows = await executor
      .selectFrom('ingest_log')
      .select(['id', 'kind', 'received_at', 'event_time', 'payload'])
      .where('id', '>', position)
      .where('id', '<=', upTo)
      .where('kind', 'in', kinds)
      .orderBy('id')
      .limit(limit)
      .execute();
    return rows.map((row) => logEntryOf(Number(row.id), row.kind, Number(row.received_at), Number(row.event_time), row.payload));
  }

  /** Count and stored bytes of the entries of `kinds` with after < id <= upTo: part of a queue's depth. */
  async countBetween(after: number, upTo: number, kinds: readonly IngestKind[]): Promise<{ items: number; bytes: number }> {
    if (upTo <= after) return { items: 0, bytes: 0 };
    const row = await this.db
      .selectFrom('ingest_log')
      .select((eb) => [eb.fn.countAll<number>().as('items'), eb.fn.sum<number>(eb.fn('length', ['payload'])).as('bytes')])
      .where('id', '>', after)
      .where('id', '<=', upTo)
      .where('kind', 'in', kinds)
      .executeTakeFirst();
    return { items: Number(row?.items ?? 0), bytes: Number(row?.bytes ?? 0) };
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
    const rows = await this.db
      .selectFrom('ingest_log')
      .select((eb) => ['id', eb.fn<number>('length', ['payload']).as('bytes')])
      .where('id', '>', position)
      .where('id', '<=', upTo)
      .where('kind', 'in', kinds)
      .orderBy('id')
      .limit(limit)
      .execute();
    return rows.map((row) => ({ id: Number(row.id), bytes: Number(row.bytes) }));
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
   * Deletes the entries with id <= upTo in the span of `span` ids from the lowest
   * (at most `span` rows; fewer where ids are missing, after an erasure or a rolled
   * back append). `done` says the span reached `upTo`: the count alone cannot, since
   * a span with gaps deletes fewer rows than it covers.
   */
  async deleteThrough(upTo: number, span: number): Promise<{ deleted: number; done: boolean }> {
    const lowest = await this.db.selectFrom('ingest_log').select((eb) => eb.fn.min('id').as('id')).executeTakeFirst();
    if (lowest?.id === null || lowest?.id === undefined || Number(lowest.id) > upTo) return { deleted: 0, done: true };
    const bound = Math.min(upTo, Number(lowest.id) + span - 1);
    const result = await this.db.deleteFrom('ingest_log').where('id', '<=', bound).executeTakeFirst();
    return { deleted: Number(result.numDeletedRows), done: bound >= upTo };
  }

  /** Erases every entry that names this user (privacy erasure). */
  async deleteUser(executor: Executor, userId: string): Promise<number> {
    this.recent?.clear();
    const result = await executor.deleteFrom('ingest_log').where('user_id', '=', userId).executeTakeFirst();
    return Number(result.numDeletedRows);
  }
}
