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

/** What `npm run bench` was asked for beyond the section names. */
export interface BenchOptions {
  /**
   * `--previous=<checkout>`: the entry point (`<checkout>/dist/src/main.js`) of an earlier build,
   * built in its own checkout with its own node_modules. Sections that support it load that build
   * in the same alternating rounds and report the new build's ratio to it.
   */
  previousMain?: string;
}
