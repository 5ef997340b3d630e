import type { IntakePlugin } from '../intake.plugin.js';

/** No variables of its own: the key is one of Vigil's ingest keys, the batch bound VIGIL_MAX_BATCH. */
class ElasticsearchBulkVariables {}

/** Elasticsearch's bulk API (`/_bulk`, `/<index>/_bulk`), for log shippers that write to Elasticsearch. */
export const elasticsearchBulkIntakePlugin: IntakePlugin<Record<string, never>, ElasticsearchBulkVariables> = {
  name: 'elasticsearch-bulk',
  variables: ElasticsearchBulkVariables,
  settings: () => ({}),
  module: () => import('./elasticsearch-bulk.module.js').then((loaded) => loaded.ElasticsearchBulkIntakeModule),
};
