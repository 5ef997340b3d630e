import { intakeWithoutSettings } from '../intake.plugin.js';

/**
 * OTLP/HTTP (`/v1/traces`, `/v1/metrics`, `/v1/logs`), for OpenTelemetry SDKs and Collectors.
 * Its one variable, VIGIL_OTLP_PORT, is the service's (main.ts opens the second listener).
 */
export const otlpIntakePlugin = intakeWithoutSettings('otlp', () => import('./otlp.module.js').then((loaded) => loaded.OtlpIntakeModule));
