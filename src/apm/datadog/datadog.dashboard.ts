import { client, v1 } from '@datadog/datadog-api-client';
import { pathToFileURL } from 'node:url';
import { ConfigurationError } from '../../config/app.config.js';
import { configFromProcessEnvironment } from '../../config/process-environment.js';
import { REQUEST_METRICS } from '../request-timings.js';
import { settingsOf } from '../../delivery/destination.plugin.js';
import { datadogBaseUrl } from './datadog.destination.js';
import { datadogPlugin, type DatadogConfig } from './datadog.plugin.js';

export const DASHBOARD_TITLE = 'Vigil';

/**
 * Cache metrics of the original design's "cache hit rate" widget: services send
 * them to /ingest/metrics as counts.
 */
export const CACHE_METRICS = { hits: 'cache.hits', misses: 'cache.misses' } as const;

/**
 * Delivery health reads Vigil's own Prometheus metrics as the Datadog Agent's
 * OpenMetrics check reports them when it scrapes Vigil's /metrics (metric names
 * kept as exposed, e.g. `vigil_delivery_queue_depth_items`).
 */
export function vigilDashboard(environment: string): v1.Dashboard {
  const scope = `env:${environment}`;
  const timeseries = (title: string, queries: string[], displayType: 'line' | 'bars' = 'line'): v1.Widget => ({
    definition: { type: 'timeseries', title, requests: queries.map((q) => ({ q, displayType })) } as v1.TimeseriesWidgetDefinition,
  });
  const value = (title: string, q: string, precision = 0): v1.Widget => ({
    definition: { type: 'query_value', title, precision, requests: [{ q, aggregator: 'sum' }] } as v1.QueryValueWidgetDefinition,
  });
  return {
    title: DASHBOARD_TITLE,
    description: `Managed by \`npm run datadog:dashboard\` (environment ${environment}); edits here are overwritten.`,
    layoutType: 'ordered',
    widgets: [
      timeseries('API response time (ms)', [`avg:${REQUEST_METRICS.duration}{${scope}} by {service}`, `p95:${REQUEST_METRICS.duration}{${scope}} by {service}`]),
      value('Total requests', `sum:${REQUEST_METRICS.count}{${scope}}.as_count()`),
      timeseries('Requests and errors', [`sum:${REQUEST_METRICS.count}{${scope}} by {service}.as_count()`, `sum:${REQUEST_METRICS.errors}{${scope}} by {service}.as_count()`], 'bars'),
      timeseries('Cache hit rate (%)', [
        `100 * sum:${CACHE_METRICS.hits}{${scope}}.as_count() / (sum:${CACHE_METRICS.hits}{${scope}}.as_count() + sum:${CACHE_METRICS.misses}{${scope}}.as_count())`,
      ]),
      timeseries('Delivery queue depth (items)', [`max:vigil_delivery_queue_depth_items{${scope}} by {destination}`]),
      timeseries('Delivery: oldest queued item age (s)', [`max:vigil_delivery_oldest_item_age_seconds{${scope}} by {destination}`]),
      timeseries('Delivery: outage seconds still absorbable', [`min:vigil_delivery_absorbable_outage_seconds{${scope}} by {destination}`]),
      timeseries('Delivery: dead letters', [`max:vigil_delivery_dead_letters{${scope}} by {destination,reason}`], 'bars'),
    ],
  };
}

/** Creates the dashboard, or updates the one with the same title: running it twice changes nothing. */
export async function upsertVigilDashboard(config: DatadogConfig, environment: string, timeoutMs = 30_000): Promise<{ id: string; created: boolean }> {
  if (!config.appKey) throw new Error('DATADOG_APP_KEY is required to manage dashboards');
  const configuration = () =>
    client.createConfiguration({
      baseServer: new client.BaseServerConfiguration(datadogBaseUrl(config), {}),
      authMethods: { apiKeyAuth: config.apiKey, appKeyAuth: config.appKey },
      httpConfig: { signal: AbortSignal.timeout(timeoutMs) },
      enableRetry: false,
    });
  const body = vigilDashboard(environment);
  const listing = await new v1.DashboardsApi(configuration()).listDashboards({}, configuration());
  const existing = (listing.dashboards ?? []).find((dashboard) => dashboard.title === DASHBOARD_TITLE);
  if (existing?.id) {
    const updated = await new v1.DashboardsApi(configuration()).updateDashboard({ dashboardId: existing.id, body }, configuration());
    return { id: updated.id ?? existing.id, created: false };
  }
  const created = await new v1.DashboardsApi(configuration()).createDashboard({ body }, configuration());
  return { id: created.id ?? '', created: true };
}

async function main(): Promise<void> {
  let datadog: DatadogConfig | null;
  let environment: string;
  try {
    const config = configFromProcessEnvironment();
    datadog = settingsOf(datadogPlugin, config);
    environment = config.environment;
  } catch (error) {
    if (error instanceof ConfigurationError) {
      process.stderr.write(`${error.message}\n`);
      process.exit(78);
    }
    throw error;
  }
  if (!datadog?.appKey) {
    process.stderr.write('datadog:dashboard needs DATADOG_API_KEY and DATADOG_APP_KEY\n');
    process.exit(78);
  }
  const result = await upsertVigilDashboard(datadog, environment);
  process.stdout.write(`${result.created ? 'Created' : 'Updated'} Datadog dashboard "${DASHBOARD_TITLE}" (${result.id})\n`);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  main().catch((error: unknown) => {
    // The client's errors carry the answer's body, never the keys.
    process.stderr.write(`datadog:dashboard failed: ${error instanceof client.ApiException ? `HTTP ${error.code} ${JSON.stringify(error.body)}` : String(error)}\n`);
    process.exit(1);
  });
}
