import { datadogPlugin } from '../apm/datadog/datadog.plugin.js';
import { newRelicPlugin } from '../apm/newrelic/newrelic.plugin.js';
import { elasticsearchPlugin } from '../logs/elasticsearch/elasticsearch.plugin.js';
import { splunkPlugin } from '../logs/splunk/splunk.plugin.js';
import type { DestinationPlugin } from './destination.plugin.js';

/**
 * Every destination Vigil has: the one place that names them. A new
 * destination is a folder with a `*.plugin.ts` (see destination.plugin.ts),
 * a `*.destination.ts` (encode / send / classify) and a module that registers
 * it, plus one line here. Configuration validates their variables, the
 * delivery module loads their modules, and the dead-letter API lists their
 * names, all from this list, in this order.
 */
export const DESTINATION_PLUGINS: readonly DestinationPlugin[] = [datadogPlugin, newRelicPlugin, elasticsearchPlugin, splunkPlugin];

/** The names of every destination, valid values of a dead letter's `destination`. */
export const DESTINATION_NAMES: readonly string[] = DESTINATION_PLUGINS.map((plugin) => plugin.name);

/** A destination's name (one of DESTINATION_NAMES). */
export type DestinationName = string;
