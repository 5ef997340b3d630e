import type { Migrations } from '../../storage/migrator.js';
import * as anomalies from './0005-anomalies.js';

/** The anomalies module's migrations (names are permanent: see Migrations). */
export const ANOMALY_MIGRATIONS: Migrations = {
  '0005-anomalies': anomalies,
};
