import type { IntakePlugin } from '../intake.plugin.js';

/** Its one variable, VIGIL_OTLP_PORT, is the service's (main.ts opens the second listener). */
class OtlpVariables {}

/** OTLP/HTTP (`/v1/traces`, `/v1/metrics`, `/v1/logs`), for OpenTelemetry SDKs and Collectors. */
export const otlpIntakePlugin: IntakePlugin<Record<string, never>, OtlpVariables> = {
  name: 'otlp',
  variables: OtlpVariables,
  settings: () => ({}),
  module: () => import('./otlp.module.js').then((loaded) => loaded.OtlpIntakeModule),
};
