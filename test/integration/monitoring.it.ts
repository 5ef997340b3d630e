import assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { parse as parseYaml } from 'yaml';
import { postJson, startApp, type RunningApp } from '../support/app.js';
import { freePort } from '../support/child-process.js';
import { sqliteDatabase } from '../support/databases.js';
import { seededRandom } from '../support/random.js';

/**
 * The monitoring stack checked against the real thing: Vigil and a real Prometheus (Debian's `prometheus`
 * package: /usr/bin/prometheus and /usr/bin/promtool) scraping it every second, synthetic traffic, then
 * every PromQL expression of every panel of every dashboard in grafana/dashboards evaluated through
 * Prometheus's HTTP API: an expression that errors or returns no data fails the test, by name.
 * Also: promtool check config / check rules, and `docker-compose config -q` on the compose files.
 * Tests run from the repository root (process.cwd()).
 */

const run = promisify(execFile);
const ROOT = process.cwd();
const PROMETHEUS = process.env['PROMETHEUS_BIN'] ?? '/usr/bin/prometheus';
const PROMTOOL = process.env['PROMTOOL_BIN'] ?? '/usr/bin/promtool';
const DOCKER_COMPOSE = process.env['DOCKER_COMPOSE_BIN'] ?? '/usr/bin/docker-compose';
const DATASOURCE_UID = 'vigil-prometheus';
const PANEL_TYPES = new Set(['timeseries', 'stat', 'table', 'row']);
/** Grafana's built-in variables, with the values a 1-hour dashboard on a 1 s scrape would give them. */
const GRAFANA_VARIABLES: Record<string, string> = {
  __rate_interval: '1m',
  __interval: '15s',
  __interval_ms: '15000',
  __range: '1h',
  __range_s: '3600',
  __range_ms: '3600000',
};

interface PanelExpression {
  dashboard: string;
  panel: string;
  refId: string;
  expr: string;
}

interface DashboardPanel {
  id?: number;
  type?: string;
  title?: string;
  datasource?: { type?: string; uid?: string } | string | null;
  targets?: Array<{ expr?: string; refId?: string; datasource?: { uid?: string } }>;
  panels?: DashboardPanel[];
}

function dashboardFiles(): string[] {
  const folder = join(ROOT, 'grafana', 'dashboards');
  return readdirSync(folder)
    .filter((name) => name.endsWith('.json'))
    .map((name) => join(folder, name));
}

function panelsOf(panels: DashboardPanel[] = []): DashboardPanel[] {
  return panels.flatMap((panel) => [panel, ...panelsOf(panel.panels)]);
}

/** Replaces Grafana variables ($x, ${x}, ${x:fmt}); any variable it does not know is an error. */
function substituteVariables(expr: string, where: string): string {
  return expr.replace(/\$\{(\w+)(?::\w+)?\}|\$(\w+)/g, (_match, braced: string | undefined, bare: string | undefined) => {
    const name = (braced ?? bare)!;
    const value = GRAFANA_VARIABLES[name];
    if (value === undefined) throw new Error(`${where}: unknown Grafana variable $${name}`);
    return value;
  });
}

function panelExpressions(): PanelExpression[] {
  const expressions: PanelExpression[] = [];
  for (const file of dashboardFiles()) {
    const dashboard = JSON.parse(readFileSync(file, 'utf8')) as { title: string; panels?: DashboardPanel[] };
    for (const panel of panelsOf(dashboard.panels)) {
      for (const target of panel.targets ?? []) {
        if (!target.expr) continue;
        const where = `${dashboard.title} › ${panel.title} [${target.refId}]`;
        expressions.push({ dashboard: dashboard.title, panel: panel.title ?? `panel ${panel.id}`, refId: target.refId ?? '?', expr: substituteVariables(target.expr, where) });
      }
    }
  }
  return expressions;
}


const sleep = (milliseconds: number) => new Promise((done) => setTimeout(done, milliseconds));


/**
 * A Datadog intake stand-in so the delivery metrics exist: the first two batches answer 503 (retries),
 * the third 400 (a dead letter), every later one 202.
 */
async function startFakeDatadog(): Promise<{ url: string; requests: () => number; server: Server }> {
  let requests = 0;
  const server = createServer((request: IncomingMessage, response: ServerResponse) => {
    request.resume();
    request.on('end', () => {
      requests++;
      const status = requests <= 2 ? 503 : requests === 3 ? 400 : 202;
      response.writeHead(status, { 'content-type': 'application/json' });
      response.end(status === 202 ? '{"errors":[]}' : JSON.stringify({ errors: [status === 400 ? 'Bad request (test)' : 'Unavailable (test)'] }));
    });
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, requests: () => requests, server };
}

describe('monitoring stack files', () => {
  test('promtool check config prometheus/prometheus.yml', async () => {
    await run(PROMTOOL, ['check', 'config', 'prometheus/prometheus.yml'], { cwd: ROOT }).catch((error: { stdout?: string; stderr?: string }) => {
      assert.fail(`promtool check config failed:\n${error.stdout ?? ''}${error.stderr ?? ''}`);
    });
  });

  test('promtool check rules for every rules file', async () => {
    const config = parseYaml(readFileSync(join(ROOT, 'prometheus', 'prometheus.yml'), 'utf8')) as { rule_files?: string[] };
    const referenced = (config.rule_files ?? []).map((file) => join('prometheus', file));
    const present = readdirSync(join(ROOT, 'prometheus'))
      .filter((name) => /^(rules|alerts).*\.ya?ml$/.test(name))
      .map((name) => join('prometheus', name));
    const missing = referenced.filter((file) => !existsSync(join(ROOT, file)));
    for (const file of new Set([...referenced, ...present].filter((file) => existsSync(join(ROOT, file))))) {
      await run(PROMTOOL, ['check', 'rules', file], { cwd: ROOT }).catch((error: { stdout?: string; stderr?: string }) => {
        assert.fail(`promtool check rules ${file} failed:\n${error.stdout ?? ''}${error.stderr ?? ''}`);
      });
    }
    assert.deepEqual(missing, [], `rules files referenced by prometheus.yml that do not exist: ${missing.join(', ')}`);
  });

  for (const [file, envFile] of [
    ['docker-compose.yml', undefined],
    ['docker-compose.elk.yml', undefined],
    ['docker-compose.monitoring.yml', 'grafana/grafana.env.example'],
    ['docker-compose.replicas.yml', 'replicas.env.example'],
  ] as const) {
    test(`docker-compose -f ${file} config -q`, async (context) => {
      if (!existsSync(join(ROOT, file))) {
        context.skip(`${file} does not exist yet: not validated`);
        return;
      }
      const args = [...(envFile ? ['--env-file', envFile] : []), '-f', file, 'config', '-q'];
      await run(DOCKER_COMPOSE, args, { cwd: ROOT }).catch((error: { stdout?: string; stderr?: string }) => {
        assert.fail(`docker-compose ${args.join(' ')} failed:\n${error.stdout ?? ''}${error.stderr ?? ''}`);
      });
    });
  }

  test('the replicas compose file: three Vigils on its Postgres, each one behind the balancer', () => {
    const compose = parseYaml(readFileSync(join(ROOT, 'docker-compose.replicas.yml'), 'utf8'), { merge: true }) as {
      services: Record<string, { build?: string; environment?: Record<string, string>; volumes?: string[] }>;
    };
    const replicas = Object.keys(compose.services).filter((name) => name.startsWith('vigil-'));
    assert.deepEqual(replicas, ['vigil-1', 'vigil-2', 'vigil-3']);
    for (const name of replicas) {
      assert.equal(compose.services[name]!.build, '.');
      assert.match(compose.services[name]!.environment!['DATABASE_URL']!, /^postgres:\/\/vigil:\$\{POSTGRES_PASSWORD:\?[^}]*\}@postgres:5432\/vigil$/);
    }
    assert.ok((compose.services['balancer']!.volumes ?? []).includes('./nginx/replicas.conf:/etc/nginx/conf.d/default.conf:ro'));
    const upstreams = [...readFileSync(join(ROOT, 'nginx/replicas.conf'), 'utf8').matchAll(/^\s*server\s+([\w-]+):8080\b/gm)].map((match) => match[1]);
    assert.deepEqual(upstreams, replicas);
  });

  test('dashboards are raw JSON with current panel types on the provisioned datasource', () => {
    const provisioned = parseYaml(readFileSync(join(ROOT, 'grafana/provisioning/datasources/prometheus.yml'), 'utf8')) as {
      datasources: Array<{ uid: string; type: string }>;
    };
    assert.deepEqual(provisioned.datasources.map((source) => [source.type, source.uid]), [['prometheus', DATASOURCE_UID]]);
    const files = dashboardFiles();
    assert.ok(files.length >= 2, 'an overview and a delivery dashboard');
    const uids = new Set<string>();
    for (const file of files) {
      const dashboard = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown> & { panels?: DashboardPanel[]; uid?: string };
      assert.equal(dashboard['dashboard'], undefined, `${file}: file provisioning reads raw dashboard JSON, not the HTTP API envelope`);
      assert.equal(typeof dashboard.uid, 'string', `${file}: a fixed uid`);
      assert.ok(!uids.has(dashboard.uid!), `${file}: uid ${dashboard.uid} is used twice`);
      uids.add(dashboard.uid!);
      for (const panel of panelsOf(dashboard.panels)) {
        assert.ok(PANEL_TYPES.has(panel.type ?? ''), `${file} › ${panel.title}: panel type ${panel.type} (use timeseries, stat or table)`);
        if (panel.type === 'row') continue;
        const uid = typeof panel.datasource === 'object' && panel.datasource ? panel.datasource.uid : undefined;
        assert.equal(uid, DATASOURCE_UID, `${file} › ${panel.title}: datasource uid`);
        assert.ok((panel.targets ?? []).length > 0, `${file} › ${panel.title}: no query`);
      }
    }
    const overview = JSON.parse(readFileSync(join(ROOT, 'grafana/dashboards/vigil-overview.json'), 'utf8')) as { panels: DashboardPanel[] };
    const titles = overview.panels.map((panel) => panel.title);
    for (const title of [
      'API response time (p95)', 'Request rate', 'Error rate', 'Cache hit rate', 'Active users', 'Database query time (p95)', 'SLA status', 'Anomalies in the last hour',
    ]) {
      assert.ok(titles.includes(title), `overview panel "${title}"`);
    }
  });

  test('provisioning paths match the compose mounts', () => {
    const compose = parseYaml(readFileSync(join(ROOT, 'docker-compose.monitoring.yml'), 'utf8')) as {
      services: Record<string, { volumes?: string[]; build?: unknown; environment?: Record<string, string> }>;
    };
    const grafanaVolumes = compose.services['grafana']!.volumes ?? [];
    assert.ok(grafanaVolumes.includes('./grafana/provisioning:/etc/grafana/provisioning:ro'), 'provisioning mounted where Grafana reads it');
    const provider = parseYaml(readFileSync(join(ROOT, 'grafana/provisioning/dashboards/vigil.yml'), 'utf8')) as { providers: Array<{ options: { path: string } }> };
    const dashboardPath = provider.providers[0]!.options.path;
    assert.ok(grafanaVolumes.includes(`./grafana/dashboards:${dashboardPath}:ro`), `grafana/dashboards mounted at the provider path ${dashboardPath}`);
    assert.ok((compose.services['prometheus']!.volumes ?? []).includes('./prometheus:/etc/prometheus:ro'));
    assert.equal(compose.services['vigil']!.build, '.');
    assert.match(compose.services['grafana']!.environment!['GF_SECURITY_ADMIN_PASSWORD']!, /^\$\{GRAFANA_ADMIN_PASSWORD:\?/, 'no default admin password');
  });
});

describe('every dashboard expression returns data from a real Prometheus scraping Vigil', () => {
  let vigil: RunningApp;
  let prometheus: ChildProcess | undefined;
  let prometheusUrl = '';
  let prometheusLog = '';
  let workDir = '';
  let datadog: Awaited<ReturnType<typeof startFakeDatadog>>;

  before(async () => {
    assert.ok(existsSync(PROMETHEUS), `${PROMETHEUS} is missing: apt-get install -y prometheus (CI installs it first)`);
    workDir = mkdtempSync(join(tmpdir(), 'vigil-prometheus-'));
    datadog = await startFakeDatadog();
    const database = sqliteDatabase();
    vigil = await startApp({
      DATABASE_URL: database.url,
      DATADOG_API_KEY: 'integration-test-key',
      DATADOG_API_URL: datadog.url,
      VIGIL_DELIVERY_FLUSH_INTERVAL_MS: '200',
    });
    const vigilTarget = new URL(vigil.url).host;
    const port = await freePort();
    prometheusUrl = `http://127.0.0.1:${port}`;
    // The repository's rules files, with the scrape and evaluation intervals shortened to 1 s.
    const ruleFiles = ['rules.yml', 'alerts.yml'].map((file) => resolve(ROOT, 'prometheus', file)).filter((file) => existsSync(file));
    const config = [
      'global:',
      '  scrape_interval: 1s',
      '  evaluation_interval: 1s',
      'rule_files:',
      ...ruleFiles.map((file) => `  - ${JSON.stringify(file)}`),
      'scrape_configs:',
      '  - job_name: vigil',
      '    metrics_path: /metrics',
      '    static_configs:',
      `      - targets: [${JSON.stringify(vigilTarget)}]`,
    ].join('\n');
    writeFileSync(join(workDir, 'prometheus.yml'), `${config}\n`);
    prometheus = spawn(
      PROMETHEUS,
      [
        `--config.file=${join(workDir, 'prometheus.yml')}`,
        `--storage.tsdb.path=${join(workDir, 'data')}`,
        `--web.listen-address=127.0.0.1:${port}`,
        '--log.level=warn',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const capture = (chunk: Buffer) => {
      if (prometheusLog.length < 20_000) prometheusLog += chunk.toString('utf8');
    };
    prometheus.stdout!.on('data', capture);
    prometheus.stderr!.on('data', capture);
  });

  after(async () => {
    if (prometheus && prometheus.exitCode === null) {
      prometheus.kill('SIGTERM');
      await new Promise((done) => prometheus!.once('exit', done));
    }
    await vigil?.close();
    await new Promise((done) => datadog?.server.close(done));
    if (workDir) rmSync(workDir, { recursive: true, force: true });
  });

  async function query(expr: string): Promise<{ status: string; error?: string; data?: { result: unknown[] } }> {
    const response = await fetch(`${prometheusUrl}/api/v1/query`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ query: expr }),
    });
    return (await response.json()) as { status: string; error?: string; data?: { result: unknown[] } };
  }

  /** One round of traffic: request records, cache counts, an ms distribution, analytics events, one invalid item. */
  async function sendTraffic(round: number, random: () => number): Promise<void> {
    const now = Date.now();
    const services: Array<[string, number, number]> = [
      // service, median latency (ms), failure share
      ['api', 80, 0.05],
      ['database', 12, 0.02],
      ['cache', 2, 0.01],
      ['checkout', 150, 0.1],
    ];
    const requests = services.flatMap(([service, median, failureShare]) =>
      Array.from({ length: 40 }, () => {
        const failed = random() < failureShare;
        // Log-normal-ish latencies with a heavy tail.
        const durationMs = Math.round(median * Math.exp((random() - 0.5) * 1.5 + (random() < 0.05 ? 2 : 0)) * 10) / 10;
        return { service, operation: 'GET /items', durationMs, statusCode: failed ? 500 : 200, success: !failed, timestamp: now };
      }),
    );
    const metrics = [
      { name: 'cache.hits', value: 8 + (round % 3), type: 'count', tags: { cache: 'redis' } },
      { name: 'cache.misses', value: 2, type: 'count', tags: { cache: 'redis' } },
      { name: 'api.response_time', value: 40 + random() * 100, type: 'distribution', unit: 'ms', tags: { endpoint: '/users' } },
      { name: 'queue.size', value: 10 + round, type: 'gauge' },
    ];
    const analytics = Array.from({ length: 20 }, (_unused, index) => ({
      userId: `user-${(round * 7 + index) % 30}`,
      sessionId: `session-${(round * 7 + index) % 30}`,
      type: index % 4 === 0 ? 'feature_used' : 'page_view',
      page: `/page/${index % 5}`,
      timestamp: now,
    }));
    const answers = await Promise.all([
      postJson(`${vigil.url}/ingest/requests`, { requests }),
      postJson(`${vigil.url}/ingest/metrics`, { metrics: [...metrics, { name: '9invalid', value: 1 }] }),
      postJson(`${vigil.url}/ingest/analytics`, { events: analytics }),
      postJson(`${vigil.url}/ingest/events`, { events: [{ title: `Deploy ${round}`, text: 'integration test' }] }),
    ]);
    for (const answer of answers) assert.equal(answer.status, 202, answer.text);
  }

  /** A steady series with one spike at the end, with its own past timestamps (one point a minute). */
  async function sendAnomalousSeries(random: () => number): Promise<void> {
    const now = Date.now();
    const points = 720;
    const metrics = Array.from({ length: points }, (_unused, index) => ({
      name: 'orders.per_minute',
      value: index === points - 1 ? 1000 : 100 + (random() - 0.5) * 4,
      type: 'gauge',
      tags: { region: 'eu' },
      timestamp: now - (points - 1 - index) * 60_000,
    }));
    const answer = await postJson(`${vigil.url}/ingest/metrics`, { metrics });
    assert.equal(answer.status, 202, answer.text);
  }

  test('every panel expression of every dashboard answers without error and with data', async (context) => {
    const expressions = panelExpressions();
    assert.ok(expressions.length > 0);
    const random = seededRandom(8);
    await sendAnomalousSeries(random);
    // Traffic across ~12 scrapes, so rate() and increase() have several samples.
    for (let round = 0; round < 12; round++) {
      await sendTraffic(round, random);
      await sleep(1000);
    }
    await vigil.settle();

    // Prometheus is up and has scraped Vigil for a while (its first scrape lands a few seconds after start).
    const deadline = Date.now() + 60_000;
    for (;;) {
      const up = await query('count_over_time(up{job="vigil"}[1m])').catch(() => undefined);
      const samples = Number((up?.data?.result[0] as { value?: [number, string] } | undefined)?.value?.[1] ?? 0);
      if (samples >= 8) break;
      assert.ok(Date.now() < deadline, `Prometheus never scraped Vigil 8 times.\nPrometheus log:\n${prometheusLog}`);
      await sleep(500);
    }
    const up = await query('up{job="vigil"}');
    assert.equal((up.data?.result[0] as { value: [number, string] }).value[1], '1', 'Prometheus scrapes Vigil successfully');

    // Recording rules run every second; give them a few evaluations, and the derived state time to catch up.
    let failures: string[] = [];
    const settleDeadline = Date.now() + 20_000;
    for (;;) {
      failures = [];
      for (const expression of expressions) {
        const answer = await query(expression.expr);
        const where = `${expression.dashboard} › ${expression.panel} [${expression.refId}]: ${expression.expr}`;
        if (answer.status !== 'success') failures.push(`${where}\n    error: ${answer.error}`);
        else if ((answer.data?.result ?? []).length === 0) failures.push(`${where}\n    no data`);
      }
      if (failures.length === 0 || Date.now() > settleDeadline) break;
      await sleep(1000);
    }
    context.diagnostic(`${expressions.length - failures.length} of ${expressions.length} panel expressions returned data`);
    for (const failure of failures) context.diagnostic(failure);
    assert.deepEqual(failures, [], `${failures.length} of ${expressions.length} panel expressions failed:\n${failures.join('\n')}`);
  });
});
