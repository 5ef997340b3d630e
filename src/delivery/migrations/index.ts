import type { Migrations } from '../../storage/migrator.js';
import * as delivery from './0002-delivery.js';
import * as deliveryLeasesFolded from './0014-delivery-leases-folded.js';

/** The delivery module's migrations (names are permanent: see Migrations). */
export const DELIVERY_MIGRATIONS: Migrations = {
  '0002-delivery': delivery,
  '0014-delivery-leases-folded': deliveryLeasesFolded,
};
