/** Kysely table types owned by the sla module (filled in by its migration). */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type
export interface SlaTables {}
