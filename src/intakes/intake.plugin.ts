import type { Type } from '@nestjs/common';

/**
 * An intake plug-in: a folder `src/intakes/<name>/` that declares what Vigil needs to know of
 * it, registered in one list (intakes.list.ts). Nothing outside its folder names it.
 *
 * Its settings: a class of environment variables (class-validator decorators, see
 * src/config/variable.transforms.ts), validated at startup with every other variable and
 * listed by the same ConfigurationError; from the validated values, its settings object
 * (defaults applied), read by its module with intakeSettingsOf. Its Nest module holds its
 * controllers (and listeners, for intakes that are not HTTP).
 */
export interface IntakePlugin<Settings = unknown, Variables extends object = object> {
  /** Its name, the key of its settings (`json`, `splunk-hec`, …). */
  readonly name: string;
  /** The class of its environment variables (a class without fields when it has none). */
  readonly variables: new () => Variables;
  /**
   * Its settings from its validated variables. Problems that span several variables go to
   * `problems`. Called also when some variable is invalid: it must not throw on bad values.
   */
  settings(variables: Variables, problems: string[]): Settings;
  /** Its secrets in its settings, redacted from logs and error bodies. */
  secrets?(settings: Settings): ReadonlyArray<string | undefined>;
  /**
   * Path prefixes of its routes that browsers call (SDKs running in a web page): they answer CORS
   * preflights and carry CORS headers for the origins in VIGIL_CORS_ORIGINS.
   */
  readonly browserPaths?: readonly string[];
  /** Its Nest module, loaded lazily (configuration reads the plug-ins before any module loads). */
  module(): Promise<Type<unknown>>;
}

/** The part of AppConfig that holds the intake plug-ins' settings, by name. */
export interface IntakeSettings {
  intakes: Readonly<Record<string, unknown>>;
}

/** The plug-in's settings in a loaded configuration. */
export function intakeSettingsOf<Settings>(plugin: IntakePlugin<Settings>, config: IntakeSettings): Settings {
  return config.intakes[plugin.name] as Settings;
}

/** No variables: the intake's key is one of Vigil's ingest keys, its bounds the service's own. */
class NoIntakeVariables {}

/**
 * The plug-in of an intake without settings of its own: its name, its module and, for browser
 * SDKs, the paths that answer CORS.
 */
export function intakeWithoutSettings(
  name: string,
  module: () => Promise<Type<unknown>>,
  options: { browserPaths?: readonly string[] } = {},
): IntakePlugin<Record<string, never>, NoIntakeVariables> {
  return { name, variables: NoIntakeVariables, settings: () => ({}), module, ...(options.browserPaths ? { browserPaths: options.browserPaths } : {}) };
}
