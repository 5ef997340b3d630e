import type { AnalyticsTables } from '../../src/analytics/analytics.tables.js';
import type { AnomalyTables } from '../../src/anomalies/anomalies.tables.js';
import type { DeliveryTables } from '../../src/delivery/delivery.tables.js';
import type { IngestLogTables } from '../../src/ingest-log/ingest-log.tables.js';
import type { SlaTables } from '../../src/sla/sla.tables.js';
import type { Db } from '../../src/storage/database.js';

/** Every feature's tables: tests look at any of them. */
export type AllTables = IngestLogTables & DeliveryTables & SlaTables & AnalyticsTables & AnomalyTables;
/** The database as a test reads it, through every feature's tables. */
export type TestDb = Db<AllTables>;
