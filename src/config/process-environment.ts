import { loadConfig, type AppConfig } from './app.config.js';

/** The one read of process.env in Vigil. */
export function configFromProcessEnvironment(): AppConfig {
  return loadConfig(process.env);
}
