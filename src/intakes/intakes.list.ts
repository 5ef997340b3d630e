import type { IntakePlugin } from './intake.plugin.js';
import { datadogIntakePlugin } from './datadog/datadog.plugin.js';
import { elasticsearchBulkIntakePlugin } from './elasticsearch-bulk/elasticsearch-bulk.plugin.js';
import { jsonIntakePlugin } from './json/json.plugin.js';
import { otlpIntakePlugin } from './otlp/otlp.plugin.js';
import { postHogIntakePlugin } from './posthog/posthog.plugin.js';
import { segmentIntakePlugin } from './segment/segment.plugin.js';
import { splunkHecIntakePlugin } from './splunk-hec/splunk-hec.plugin.js';

/**
 * Every intake, registered here and nowhere else (app.module.ts loads their modules and
 * configuration validates their variables from this list; nothing outside an intake's folder
 * names it but this file). An intake is a folder `src/intakes/<name>/` with its plug-in
 * (`<name>.plugin.ts`: name, variables, settings, lazily loaded module; see intake.plugin.ts),
 * module, controller, DTOs (the OpenAPI document) and decode step.
 *
 * The contract. An intake:
 * - authenticates with `@RequiresScope('ingest')`, so the key is checked from the headers
 *   before the body is read; a foreign protocol also declares `@SpeaksProtocol(dialect)`
 *   (src/common/protocol-dialect.ts): where its key is carried and how its errors are worded,
 *   so every refusal, including Vigil's own limits, reaches its clients in their terms;
 * - decodes its wire format into batches of raw items of one kind (its own refusals of a
 *   body it cannot read, and of a batch over VIGIL_MAX_BATCH);
 * - hands each batch to `IngestService.ingestItems(kind, rawItems, batchName)`, and maps the
 *   outcome (accepted / rejected / per-item errors, or the thrown 503 with Retry-After) to its
 *   protocol's answer, sent only after ingestItems resolved (the items are committed).
 * It never validates items, appends to the ingest log, touches storage or another intake on
 * its own: validation, admission checks and the durable group commit are ingest's, the same
 * for every intake.
 *
 * The order is the order of the routes in the OpenAPI document.
 */
export const INTAKE_PLUGINS: readonly IntakePlugin[] = [
  jsonIntakePlugin,
  otlpIntakePlugin,
  datadogIntakePlugin,
  splunkHecIntakePlugin,
  elasticsearchBulkIntakePlugin,
  segmentIntakePlugin,
  postHogIntakePlugin,
];
