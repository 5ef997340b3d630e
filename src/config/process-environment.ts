import { loadConfig, type AppConfig } from './app.config.js';

/** The one read of process.env in Vigil. */
export function configFromProcessEnvironment(): AppConfig {
  return loadConfig(process.env);
}

/**
 * The `newrelic` agent configures itself from NEW_RELIC_* variables when it is
 * imported. Give it Vigil's defaults (no newrelic.js file, app name `vigil`,
 * its own log on stdout at warn, attributes that could hold secrets excluded)
 * unless the operator set them. Called only when a license key is configured.
 */
export function prepareNewRelicAgentEnvironment(): void {
  const defaults: Record<string, string> = {
    NEW_RELIC_NO_CONFIG_FILE: 'true',
    NEW_RELIC_APP_NAME: 'vigil',
    NEW_RELIC_LOG: 'stdout',
    NEW_RELIC_LOG_LEVEL: 'warn',
    NEW_RELIC_ATTRIBUTES_EXCLUDE: 'request.headers.authorization,request.headers.x-api-key',
  };
  for (const [name, value] of Object.entries(defaults)) process.env[name] ??= value;
}
