import type { Migrations } from '../../storage/migrator.js';
import * as sla from './0003-sla.js';
import * as slaExactLatencies from './0007-sla-exact-latencies.js';

/** The sla module's migrations (names are permanent: see Migrations). */
export const SLA_MIGRATIONS: Migrations = {
  '0003-sla': sla,
  '0007-sla-exact-latencies': slaExactLatencies,
};
