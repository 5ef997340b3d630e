/** Kysely table types owned by the analytics module (filled in by its migration). */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type
export interface AnalyticsTables {}
