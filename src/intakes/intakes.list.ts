import type { Type } from '@nestjs/common';
import { JsonIntakeModule } from './json/json.module.js';
import { OtlpIntakeModule } from './otlp/otlp.module.js';

/**
 * Every intake, registered here and nowhere else (app.module.ts imports this list; nothing
 * outside an intake's folder names it but this file). An intake is a folder `src/intakes/<name>/`
 * with its module, controller, DTOs (the OpenAPI document) and decode step.
 *
 * The contract. An intake:
 * - authenticates with `@RequiresScope('ingest')`, so the key is checked from the headers
 *   before the body is read;
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
export const INTAKE_MODULES: readonly Type[] = [JsonIntakeModule, OtlpIntakeModule];
