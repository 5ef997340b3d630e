import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import './shared-payloads.js';

/**
 * The two stores every medium test runs on: a fresh SQLite file, and a fresh
 * schema in the Postgres on this machine (127.0.0.1:5432, trust auth, database
 * `test`; override with VIGIL_TEST_POSTGRES_URL).
 */
export interface TestDatabase {
  name: 'sqlite' | 'postgres';
  url: string;
  /** Drops the Postgres schema; SQLite files live in the OS temp dir. */
  drop(): Promise<void>;
}

// Tests may read the environment: this is test set-up, not the service.
const POSTGRES_BASE = process.env['VIGIL_TEST_POSTGRES_URL'] ?? 'postgres://root@127.0.0.1:5432/test';

export function sqliteDatabase(): TestDatabase {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-test-'));
  return { name: 'sqlite', url: `sqlite:${join(dir, 'vigil.db')}`, drop: async () => undefined };
}

export async function postgresDatabase(): Promise<TestDatabase> {
  const schema = `t_${process.pid}_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 8)}`;
  const client = new pg.Client({ connectionString: POSTGRES_BASE });
  await client.connect();
  await client.query(`create schema ${schema}`);
  await client.end();
  const separator = POSTGRES_BASE.includes('?') ? '&' : '?';
  return {
    name: 'postgres',
    url: `${POSTGRES_BASE}${separator}options=${encodeURIComponent(`-c search_path=${schema}`)}`,
    drop: async () => {
      const dropper = new pg.Client({ connectionString: POSTGRES_BASE });
      await dropper.connect();
      await dropper.query(`drop schema if exists ${schema} cascade`);
      await dropper.end();
    },
  };
}

/** Null when the test Postgres answers, else why not. */
async function postgresProblem(): Promise<string | null> {
  // A refused connection fails at once; the timeout only bounds a host that never answers. It is
  // long because this probe runs while the test file's other imports (the whole app) are still
  // being evaluated on the same thread: on a slow machine a 3 s timer fired before the answer
  // that had already arrived could be read.
  const client = new pg.Client({ connectionString: POSTGRES_BASE, connectionTimeoutMillis: 20_000 });
  try {
    await client.connect();
    await client.query('select 1');
    return null;
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  } finally {
    await client.end().catch(() => undefined);
  }
}

/**
 * Whether the Postgres suites run. Under CI (CI=true) or with
 * VIGIL_TEST_REQUIRE_POSTGRES=true an unreachable Postgres fails the run; on a
 * developer machine without one they are left out with a warning, so that
 * `npm ci && npm test` works with nothing but Node.js installed.
 */
export const POSTGRES_AVAILABLE: boolean = await (async () => {
  const problem = await postgresProblem();
  if (problem === null) return true;
  const required = process.env['CI'] === 'true' || process.env['VIGIL_TEST_REQUIRE_POSTGRES'] === 'true';
  if (required) throw new Error(`The test Postgres at ${POSTGRES_BASE} does not answer (${problem}), and CI requires it`);
  process.stderr.write(`warning: no Postgres at ${POSTGRES_BASE} (${problem}): the Postgres suites are left out (set VIGIL_TEST_POSTGRES_URL)\n`);
  return false;
})();

/** Both stores, for `for (const make of BOTH) describe(...)` style tests. */
export const BOTH_DATABASES: Array<{ name: 'sqlite' | 'postgres'; make: () => Promise<TestDatabase> }> = [
  { name: 'sqlite', make: async () => sqliteDatabase() },
  ...(POSTGRES_AVAILABLE ? [{ name: 'postgres' as const, make: postgresDatabase }] : []),
];
