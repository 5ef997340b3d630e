/** Kysely table types owned by the delivery module (filled in by its migration). */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type
export interface DeliveryTables {}
