/** Kysely table types owned by the anomalies module (filled in by its migration). */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type
export interface AnomalyTables {}
