import { IsIn, IsOptional, IsString, IsUrl, Matches } from 'class-validator';
import { URL_OPTIONS } from '../../config/variable.transforms.js';
import type { DestinationPlugin } from '../../delivery/destination.plugin.js';

export interface NewRelicConfig { licenseKey: string; accountId?: string; region: 'us' | 'eu'; metricApiUrl: string; eventApiUrl?: string }

/** The New Relic destination's environment variables (the New Relic agent reads NEW_RELIC_LICENSE_KEY too: see main.ts). */
export class NewRelicVariables {
  @IsOptional() @IsString() NEW_RELIC_LICENSE_KEY?: string;
  @IsOptional() @Matches(/^\d+$/, { message: 'NEW_RELIC_ACCOUNT_ID must be a number' }) NEW_RELIC_ACCOUNT_ID?: string;
  @IsOptional() @IsIn(['us', 'eu']) NEW_RELIC_REGION?: string;
  @IsOptional() @IsUrl(URL_OPTIONS) NEW_RELIC_METRIC_API_URL?: string;
  @IsOptional() @IsUrl(URL_OPTIONS) NEW_RELIC_EVENT_API_URL?: string;
}

/** New Relic: metrics and request timings (Metric API), events (Event API, with an account id); on when NEW_RELIC_LICENSE_KEY is set. */
export const newRelicPlugin: DestinationPlugin<NewRelicConfig, NewRelicVariables> = {
  name: 'newrelic',
  title: 'New Relic',
  kinds: ['metric', 'event', 'request'],
  variables: NewRelicVariables,
  settings(env) {
    if (!env.NEW_RELIC_LICENSE_KEY) return null;
    const region = env.NEW_RELIC_REGION === 'eu' ? 'eu' : 'us';
    // The hosts New Relic documents per region (docs.newrelic.com, "Report metrics via the Metric
    // API" and "Introduction to the Event API"): the Event API's EU host is the only nr-data.net one.
    const metricHost = region === 'eu' ? 'metric-api.eu.newrelic.com' : 'metric-api.newrelic.com';
    const insightsHost = region === 'eu' ? 'insights-collector.eu01.nr-data.net' : 'insights-collector.newrelic.com';
    return {
      licenseKey: env.NEW_RELIC_LICENSE_KEY,
      accountId: env.NEW_RELIC_ACCOUNT_ID,
      region,
      metricApiUrl: env.NEW_RELIC_METRIC_API_URL ?? `https://${metricHost}/metric/v1`,
      eventApiUrl:
        env.NEW_RELIC_EVENT_API_URL ?? (env.NEW_RELIC_ACCOUNT_ID ? `https://${insightsHost}/v1/accounts/${env.NEW_RELIC_ACCOUNT_ID}/events` : undefined),
    };
  },
  secrets: (settings) => [settings.licenseKey],
  module: () => import('./newrelic.module.js').then((loaded) => loaded.NewRelicModule),
};
