import { ANALYTICS_MIGRATIONS } from './analytics/migrations/index.js';
import { ANOMALY_MIGRATIONS } from './anomalies/migrations/index.js';
import { DELIVERY_MIGRATIONS } from './delivery/migrations/index.js';
import { INGEST_LOG_MIGRATIONS } from './ingest-log/migrations/index.js';
import { SLA_MIGRATIONS } from './sla/migrations/index.js';
import { collectMigrations } from './storage/migrator.js';

/**
 * Every feature's migrations, as the app runs them (in name order). A feature with tables
 * adds its set here; a new migration takes the next free number across all of them.
 */
export const APP_MIGRATIONS = collectMigrations(INGEST_LOG_MIGRATIONS, DELIVERY_MIGRATIONS, SLA_MIGRATIONS, ANALYTICS_MIGRATIONS, ANOMALY_MIGRATIONS);
