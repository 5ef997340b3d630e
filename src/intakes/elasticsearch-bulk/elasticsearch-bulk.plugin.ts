import { intakeWithoutSettings } from '../intake.plugin.js';

/** Elasticsearch's bulk API (`/_bulk`, `/<index>/_bulk`), for log shippers that write to Elasticsearch. */
export const elasticsearchBulkIntakePlugin = intakeWithoutSettings('elasticsearch-bulk', () =>
  import('./elasticsearch-bulk.module.js').then((loaded) => loaded.ElasticsearchBulkIntakeModule),
);
