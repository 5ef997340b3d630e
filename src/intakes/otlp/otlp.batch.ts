/**
 * What decoding one OTLP export yields: the raw items handed to ingest, and the parts of the
 * export refused before ingest saw them (counted in `partialSuccess`, the first few named).
 */
export class DecodedExport {
  readonly items: Array<Record<string, unknown>> = [];
  rejected = 0;
  readonly problems: string[] = [];

  /** Counts one refused part; its reason is kept among the first MAX_PROBLEMS. */
  reject(problem: string, count = 1): void {
    this.rejected += count;
    if (this.problems.length < MAX_PROBLEMS) this.problems.push(problem);
  }
}

/** Reasons named in a partialSuccess errorMessage. */
export const MAX_PROBLEMS = 5;
