/**
 * One section of `npm run bench`. Each capability contributes a file
 * bench/<name>.bench.ts exporting `run(): Promise<BenchSection>`; bench/bench.ts
 * runs them in turn and prints every row. Figures only, never pass/fail.
 */
export interface BenchRow {
  /** What was measured, e.g. "POST /ingest/requests, 1000-record batches". */
  name: string;
  value: number;
  /** Unit of value: "req/s", "points/s", "ms", "MiB". */
  unit: string;
  /** Ratio to the bare-Fastify baseline, where one applies. */
  ratio?: number;
  /** Target from the issue, for the reader ("≥ 250000", "< 50"). */
  target?: string;
  note?: string;
}

export interface BenchSection {
  title: string;
  rows: BenchRow[];
}
