import type { Type } from '@nestjs/common';
import type { Destination } from './destination.js';

/**
 * A destination plug-in: a folder (src/apm/datadog, src/logs/splunk, …) that
 * declares everything Vigil needs to know of it, registered in one list
 * (destinations.list.ts). Nothing outside its folder names it.
 *
 * Its settings: a class of environment variables (class-validator
 * decorators, see src/config/variable.transforms.ts), validated at startup
 * with every other variable and listed by the same ConfigurationError; from the
 * validated values, its settings object, or null when it is not configured
 * (off). The delivery core adds VIGIL_QUEUE_MAX_BYTES_<NAME> for each
 * plug-in (queueBoundVariable). Its Nest module registers the destination with
 * DestinationRegistry when its settings are present (see settingsOf).
 */
export interface DestinationPlugin<Settings = unknown, Variables extends object = object> {
  /** Its name: the `destination` label, a dead letter's destination, the queue's position `delivery:<name>`. */
  readonly name: string;
  /** Its name in messages (`Datadog`). */
  readonly title: string;
  /** The ingest-log kinds it may receive (its Destination's `kinds` are among them). */
  readonly kinds: Destination['kinds'];
  /** The class of its environment variables. */
  readonly variables: new () => Variables;
  /**
   * Its settings from its validated variables; null when they do not turn it
   * on. Problems that span several variables go to `problems` (one line each,
   * naming the variables, never echoing a value). Called also when some
   * variable is invalid, before the ConfigurationError is thrown: it must not
   * throw on bad values.
   */
  settings(variables: Variables, problems: string[]): Settings | null;
  /** The secrets in its settings, redacted from logs, error bodies and dead letters. */
  secrets(settings: Settings): ReadonlyArray<string | undefined>;
  /**
   * Its Nest module, loaded lazily: configuration reads the plug-ins before
   * main.ts loads the New Relic agent, which must come before the vendor
   * clients it instruments.
   */
  module(): Promise<Type<unknown>>;
}

/** The part of AppConfig that holds the plug-ins' settings. */
export interface DestinationSettings {
  /** Settings of each configured destination plug-in by name; absent: off. */
  destinations: Readonly<Record<string, unknown>>;
}

/** The plug-in's settings in a loaded configuration; null when it is off. */
export function settingsOf<Settings>(plugin: DestinationPlugin<Settings>, config: DestinationSettings): Settings | null {
  return (config.destinations[plugin.name] as Settings | undefined) ?? null;
}

/** The variable bounding a destination's queue, VIGIL_QUEUE_MAX_BYTES_<NAME> (VIGIL_QUEUE_MAX_BYTES when unset). */
export function queueBoundVariable(name: string): string {
  return `VIGIL_QUEUE_MAX_BYTES_${name.toUpperCase()}`;
}
