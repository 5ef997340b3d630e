/**
 * One memory budget for the whole process (VIGIL_MEMORY_BUDGET_MB), and the share of it each
 * part that can grow under load is bounded by. The budget is what the process's resident memory
 * should stay under; the default (384 MiB) fits a 512 MiB container with room for the page
 * cache of SQLite's file and the allocator's slack.
 *
 * Where the memory of a loaded Vigil went before these bounds (1000-point batches, 1.2 GiB peak):
 * the young generation of `--max-semi-space-size=64` (3 × 64 MiB committed once used), an old
 * generation V8 let grow to the machine's size (no limit below ~4 GiB on this machine, so garbage
 * was collected late), and the window of recent ingest-log entries (500,000 entries, ~100 MiB of
 * heap). Each is now a share of the budget:
 *
 * | part | share | bounded by |
 * |---|---|---|
 * | runtime (Node's code and data, loaded modules, thread stacks, the WAL checkpoint thread, allocator slack) | what is left: not bounded, ~85 MiB | — |
 * | main heap, young generation | 3 × semi-space, semi-space = budget / 24 (4–64 MiB) | `--max-semi-space-size` (start script) |
 * | main heap, old generation | 45 % of the budget | `--max-old-space-size` (start script) |
 * |   of which: recent ingest-log entries | budget / 16 | RecentEntries' byte estimate |
 * |   of which: request bodies in flight | budget / 16 | RequestBodyAdmission (503 past it) |
 * | SQLite's page cache (main connection; native) | budget / 6 | `pragma cache_size` |
 * | detection worker thread's heap | budget / 8 old, budget / 48 young (at most 16 MiB) | the Worker's resourceLimits |
 * |   and the point arrays it holds outside that heap | one request's (~420 KB a 20,000-point batch) | it transfers them back with each reply |
 *
 * The two native parts were found in the 30 s batch round's growth (glibc's malloc_info per arena):
 * the page cache, then a fixed 64 MiB, filled the main thread's arena as the file grew past it,
 * and the detection thread's arena held up to 64 MiB of copied point arrays, which its rarely
 * collected heap freed only at V8's external-memory trigger.
 * The window of recent entries is budget / 16 (24 MiB, ~126,000 small metric items at the default):
 * at budget / 32 the anomaly consumer, which trails ingest by one detection round trip, fell out of
 * it under 1000-point batches and read its entries back from the store (7 % of the request
 * thread's time, a fifth of the process's allocation); at budget / 8 the larger live old generation made each full
 * collection dearer than the reads it saved (measured in BENCHMARKS.md, request path session).
 *
 * The page cache keeps the 64 MiB it had at the default budget: a 32 MiB one (budget / 12) cut
 * the peak by ~45 MiB but batches ran at 0.91× in an alternated A/B (7.7 against 7.1 µs a point),
 * since the consumers' indexes are updated in random key order.
 *
 * Parts of the old generation not listed hold their own count bounds (re-exposed series, anomaly
 * series, the group commit's waiting entries, which only requests whose bodies are in flight can
 * add to); /metrics shows each part's share (vigil_memory_share_bytes) and, where it can be
 * measured, its size (vigil_memory_part_bytes: the detection worker's as of its last reply; not
 * SQLite's page cache, which better-sqlite3 does not report).
 */

const MIB = 1024 * 1024;

/**
 * How far V8 lets the old generation grow past what the last full collection kept before it
 * collects again (`--heap-growing-percent`): 200 % (three times the live size), still within
 * `--max-old-space-size`. Below 256 MiB of old space V8 grows it by at most 30 % on its own, so
 * under 1000-point batches (~13 MB promoted between collections, mostly the items the window of
 * recent entries keeps) it ran a full collection about once a second, each costing its helper
 * threads ~300 ms of marking.
 */
export const OLD_GENERATION_GROWING_PERCENT = 200;

/** VIGIL_MEMORY_BUDGET_MB when unset. */
export const DEFAULT_MEMORY_BUDGET_MEBIBYTES = 384;
/** Below this the runtime alone (~150 MiB) leaves the parts too little to work with. */
export const MIN_MEMORY_BUDGET_MEBIBYTES = 256;
export const MAX_MEMORY_BUDGET_MEBIBYTES = 65_536;

export interface MemoryBudget {
  /** The whole budget, in bytes. */
  totalBytes: number;
  /** V8's `--max-semi-space-size` of the main thread, in MiB (the young generation is three of them). */
  semiSpaceMebibytes: number;
  /** V8's `--max-old-space-size` of the main thread, in MiB. */
  oldSpaceMebibytes: number;
  /** Estimated heap bytes the window of recent ingest-log entries may hold (RecentEntries). */
  recentEntriesBytes: number;
  /** Body bytes all requests in flight may hold together (the default of VIGIL_MAX_BODY_BYTES_IN_FLIGHT). */
  bodyBytesInFlight: number;
  /** SQLite's page cache on the main connection (its `cache_size`), in bytes; native memory, outside V8's heap. */
  sqlitePageCacheBytes: number;
  /** The detection worker thread's resourceLimits, in MiB. */
  detectionWorker: { maxOldGenerationSizeMb: number; maxYoungGenerationSizeMb: number };
}

/**
 * Heap bytes one anomaly series takes in the detection worker, by method, rounded up from a
 * measurement (3,000 points into each of 500 series, heap used after a full collection):
 * likelihood 8 KiB, novelty 17 KiB (three adaptive-resonance members), the isolation forest's methods ~640 KiB (its trees).
 */
const ANOMALY_SERIES_BYTES: Readonly<Record<string, number>> = { likelihood: 12 * 1024, novelty: 20 * 1024, ensemble: 800 * 1024, isolation_forest: 800 * 1024 };
/** The upper end of the default anomaly series cap, whatever the budget. */
const MAX_DEFAULT_ANOMALY_SERIES = 10_000;

/**
 * The default of VIGIL_ANOMALY_MAX_SERIES: the series whose models fit in three quarters of the
 * detection worker's old generation (the rest: the thread's own code and the batches in transit).
 * At the default budget (48 MiB for the worker): 1,843 series with the novelty method, 45 with the
 * isolation forest's. Past the cap, a new series evicts the one idle longest (or is refused).
 */
export function defaultAnomalySeriesOf(budget: MemoryBudget, method: string): number {
  const bytes = ANOMALY_SERIES_BYTES[method] ?? ANOMALY_SERIES_BYTES['ensemble']!;
  return Math.max(1, Math.min(MAX_DEFAULT_ANOMALY_SERIES, Math.floor((budget.detectionWorker.maxOldGenerationSizeMb * MIB * 3) / 4 / bytes)));
}

/** The shares of a budget of `mebibytes` MiB (see the table above). */
export function memoryBudgetOf(mebibytes: number): MemoryBudget {
  return {
    totalBytes: mebibytes * MIB,
    semiSpaceMebibytes: Math.min(64, Math.max(4, Math.floor(mebibytes / 24))),
    oldSpaceMebibytes: Math.floor((mebibytes * 45) / 100),
    recentEntriesBytes: Math.floor((mebibytes * MIB) / 16),
    bodyBytesInFlight: Math.floor((mebibytes * MIB) / 16),
    sqlitePageCacheBytes: Math.floor((mebibytes * MIB) / 6),
    detectionWorker: { maxOldGenerationSizeMb: Math.floor(mebibytes / 8), maxYoungGenerationSizeMb: Math.min(16, Math.floor(mebibytes / 48)) },
  };
}

/**
 * The value of VIGIL_MEMORY_BUDGET_MB, or a problem in the words of the other variables'
 * (a whole number of MiB within the bounds). Unset or empty: the default.
 */
export function parseMemoryBudget(raw: string | undefined): { mebibytes: number } | { problem: string } {
  if (raw === undefined || raw.trim() === '') return { mebibytes: DEFAULT_MEMORY_BUDGET_MEBIBYTES };
  const text = raw.trim();
  if (!/^\d+$/.test(text)) return { problem: 'VIGIL_MEMORY_BUDGET_MB must be a whole number of MiB' };
  const mebibytes = Number(text);
  if (mebibytes < MIN_MEMORY_BUDGET_MEBIBYTES || mebibytes > MAX_MEMORY_BUDGET_MEBIBYTES) {
    return { problem: `VIGIL_MEMORY_BUDGET_MB must be between ${MIN_MEMORY_BUDGET_MEBIBYTES} and ${MAX_MEMORY_BUDGET_MEBIBYTES}` };
  }
  return { mebibytes };
}

/**
 * The V8 flags of the budget, for the start script: V8 sizes its heap when the process starts,
 * so main.ts cannot apply them itself (`npm run start:prod` and the Dockerfile run
 * `node $(node dist/src/config/memory-flags.js) dist/src/main.js`).
 */
export function nodeFlagsOf(budget: MemoryBudget): string[] {
  return [`--max-semi-space-size=${budget.semiSpaceMebibytes}`, `--max-old-space-size=${budget.oldSpaceMebibytes}`, `--heap-growing-percent=${OLD_GENERATION_GROWING_PERCENT}`];
}
