import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import pg from 'pg';
import { ANOMALY_REPLAY_POSITION } from '../../src/anomalies/anomaly-log.positions.js';
import { loadConfig } from '../../src/config/app.config.js';
import { openDatabase } from '../../src/storage/database.provider.js';
import { FakeDatadog } from '../fakes/datadog-intake.js';
import { FakeElasticsearch } from '../fakes/elasticsearch.fake.js';
import { startChildVigil, type ChildVigil } from '../support/child-process.js';
import { POSTGRES_AVAILABLE, postgresDatabase } from '../support/databases.js';
import { storedItems } from '../support/stored-entries.js';
import {
  ANALYTICS_TYPES,
  LOAD_KINDS,
  LoadLedger,
  METRIC_NAME,
  SLA_SERVICE,
  analyticsType,
  logMessage,
  requestFails,
  runLoad,
  type LoadKind,
  type LoadTarget,
} from './replicas-load.support.js';

/**
 * Issue 24, point 4: three Vigil processes on one Postgres, load spread over them, one killed
 * with SIGKILL under load. What must hold: no acknowledged item is lost; SLA, analytics and
 * anomalies count every stored item exactly once, read through each replica's own read side
 * (the survivors and the restarted one answer alike); every consumer moves again within 15 s
 * of the kill; each destination receives every acknowledged item at least once.
 *
 * Items whose request was in flight on the killed replica got no answer: they may or may not
 * have been committed. The test finds out which from the log itself (read straight from its
 * rows), so the counts it expects are the acknowledged items plus those, computed here.
 */

const REPLICAS = 3;
/** Three processes starting at once on a loaded 2-core machine: each may take a while to be ready. */
const READY_TIMEOUT_MS = 90_000;
/** The bound: from the kill to every consumer's position moving again. */
const TAKEOVER_BOUND_MS = 15_000;
const LOAD_BEFORE_KILL = 3_000;
const LOAD_AFTER_KILL_MS = 4_000;
const SAMPLE_EVERY_MS = 100;

const sleep = (milliseconds: number) => new Promise((resolve) => setTimeout(resolve, milliseconds));

async function waitFor(what: string, predicate: () => Promise<boolean> | boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(200);
  }
}

async function getJson<Body>(url: string): Promise<Body> {
  const response = await fetch(url);
  assert.equal(response.status, 200, `${url} answered ${response.status}`);
  return (await response.json()) as Body;
}

/**
 * Each consumer's stored position: SLA, anomalies, analytics and one per destination
 * (`delivery:<name>`). The anomaly detector's replay position is no consumer (it marks where a
 * reload of its models starts, moved by its checkpoints), so it is left out.
 */
async function positions(client: pg.Client): Promise<Map<string, number>> {
  const { rows } = await client.query<{ consumer: string; position: string }>('select consumer, position from consumer_positions where consumer <> $1', [ANOMALY_REPLAY_POSITION]);
  return new Map(rows.map((row) => [row.consumer, Number(row.position)]));
}

/**
 * What one replica's read side says of the load's items: SLA and analytics from the store, so
 * every replica answers alike.
 */
interface ReadSide {
  slaTotal: number;
  slaFailed: number;
  analyticsTotal: number;
  analyticsByType: Record<string, number>;
}

/**
 * The anomaly report's points of the load's metric. The report comes from the detector models in
 * the replica's memory (AnomaliesService.report): exact on the replica that applied the consumer's
 * latest batch (a replica that takes the consumer over reloads its models from the store first),
 * behind on the others until they run it.
 */
async function anomalyPoints(url: string): Promise<number> {
  const anomalies = await getJson<{ metrics: Record<string, { points_processed: number }> }>(`${url}/anomalies/report`);
  return anomalies.metrics[METRIC_NAME]?.points_processed ?? 0;
}

async function readSide(url: string, day: string): Promise<ReadSide> {
  const sla = await getJson<{ metrics: { requests: { total: number; failed: number } } }>(`${url}/sla/status/${SLA_SERVICE}?window=24h`);
  const features = await getJson<{ total_actions: number; top_features: Array<{ feature: string; usage_count: number }> }>(
    `${url}/analytics/features?from=${day}&to=${day}&limit=100`,
  );
  return {
    slaTotal: sla.metrics.requests.total,
    slaFailed: sla.metrics.requests.failed,
    analyticsTotal: features.total_actions,
    analyticsByType: Object.fromEntries(features.top_features.map((row) => [row.feature, row.usage_count])),
  };
}

/** The ids of the load's items found in the log, by kind, read from its rows (not through Vigil). */
async function storedIds(databaseUrl: string): Promise<{ ids: Map<LoadKind, number[]> }> {
  const db = openDatabase(loadConfig({ DATABASE_URL: databaseUrl }).database);
  try {
    const requests = await storedItems<{ service: string; durationMs: number }>(db, ['request']);
    const analytics = await storedItems<{ properties?: { id?: number } }>(db, ['analytics']);
    const metrics = await storedItems<{ name: string; value: number }>(db, ['metric']);
    const logs = await storedItems<{ attributes?: { id?: number } }>(db, ['log']);
    return {
      ids: new Map<LoadKind, number[]>([
        ['requests', requests.filter((item) => item.service === SLA_SERVICE).map((item) => item.durationMs)],
        ['analytics', analytics.map((item) => item.properties?.id).filter((id): id is number => id !== undefined)],
        ['metrics', metrics.filter((item) => item.name === METRIC_NAME).map((item) => item.value)],
        ['logs', logs.map((item) => item.attributes?.id).filter((id): id is number => id !== undefined)],
      ]),
    };
  } finally {
    await db.destroy();
  }
}

describe('replicas on one Postgres', { skip: POSTGRES_AVAILABLE ? false : 'no Postgres' }, () => {
  test('three replicas, one killed with SIGKILL under load: nothing lost, counted once, consumers resume within 15 s', { timeout: 600_000 }, async () => {
    const database = await postgresDatabase();
    const elasticsearch = new FakeElasticsearch();
    const datadog = new FakeDatadog('dd-replicas-0123456789');
    await elasticsearch.start();
    await datadog.start();
    const env = {
      DATABASE_URL: database.url,
      ENVIRONMENT: 'test',
      ELASTICSEARCH_URL: elasticsearch.url,
      DATADOG_API_KEY: datadog.apiKey,
      DATADOG_API_URL: datadog.url,
      VIGIL_DELIVERY_FLUSH_INTERVAL_MS: '500',
    };
    const replicas: ChildVigil[] = [];
    const client = new pg.Client({ connectionString: database.url });
    await client.connect();
    try {
      // At once, as a deployment starts them: the migrations take Kysely's advisory lock.
      const started = await Promise.allSettled(Array.from({ length: REPLICAS }, () => startChildVigil(env, undefined, READY_TIMEOUT_MS)));
      for (const start of started) if (start.status === 'fulfilled') replicas.push(start.value);
      for (const start of started) if (start.status === 'rejected') throw start.reason;
      const targets: LoadTarget[] = replicas.map((replica) => ({ url: replica.url, alive: true }));
      const ledger = new LoadLedger();
      const day = new Date().toISOString().slice(0, 10);

      // Every consumer's position, sampled from the store until the end of the catch-up.
      const samples: Array<{ at: number; positions: Map<string, number> }> = [];
      let sampling = true;
      const sampler = (async () => {
        while (sampling) {
          samples.push({ at: Date.now(), positions: await positions(client) });
          await sleep(SAMPLE_EVERY_MS);
        }
      })();

      const load = runLoad(targets, ledger, { workers: 6, batchSize: 20 });
      // Kill once every kind has acknowledged items and some delivery is under way, so the
      // consumers and the destination queues all have work in flight.
      await waitFor('load under way', () => ledger.totalAcknowledged >= LOAD_BEFORE_KILL && elasticsearch.stats.itemsReceived > 0 && datadog.distributions.length > 0, 120_000);
      // The replica that holds the Elasticsearch queue's lease: its death is the one a destination has to survive.
      const { rows: leases } = await client.query<{ consumer: string; owner: string }>('select consumer, owner from consumer_leases');
      const holder = leases.find((lease) => lease.consumer === 'delivery:elasticsearch')?.owner ?? '';
      const victimIndex = replicas.findIndex((replica) => holder.includes(`:${replica.process.pid}:`));
      assert.ok(victimIndex >= 0, `the Elasticsearch lease is held by a replica: ${JSON.stringify(leases)}`);
      const victim = replicas[victimIndex]!;
      const leasesOfVictim = leases.filter((lease) => lease.owner.includes(`:${victim.process.pid}:`)).map((lease) => lease.consumer);

      targets[victimIndex]!.alive = false;
      const killedAt = Date.now();
      victim.process.kill('SIGKILL');
      assert.equal((await victim.exited).signal, 'SIGKILL');
      // A commit the victim had already sent lands within milliseconds; the positions after it are the baseline.
      await sleep(500);
      const atKill = await positions(client);
      await sleep(LOAD_AFTER_KILL_MS);
      load.stop();
      await load.done;

      // Every consumer catches up with the whole log on the survivors.
      const { rows: high } = await client.query<{ high: string }>('select max(id) as high from ingest_log');
      const highest = Number(high[0]!.high);
      await waitFor('every consumer to reach the end of the log', async () => [...(await positions(client)).values()].every((position) => position >= highest), 180_000);
      sampling = false;
      await sampler;
      // The move that reached the end may have come after the sampler's last look (a consumer
      // that resumes with one delivery of everything moves once): it counts, when it was seen.
      samples.push({ at: Date.now(), positions: await positions(client) });

      // Takeover: from the kill to the first sample where the consumer's position moved past its baseline.
      const takeover = new Map<string, number>();
      for (const [consumer, baseline] of atKill) {
        const moved = samples.find((sample) => sample.at > killedAt && (sample.positions.get(consumer) ?? 0) > baseline);
        takeover.set(consumer, moved ? moved.at - killedAt : Number.POSITIVE_INFINITY);
      }
      assert.deepEqual([...atKill.keys()].sort(), ['analytics', 'anomalies', 'delivery:datadog', 'delivery:elasticsearch', 'sla'], 'every consumer has a position');

      // No acknowledged item lost; nothing stored that no request carried; no item stored twice.
      const { ids: stored } = await storedIds(database.url);
      const expected = new Map<LoadKind, Set<number>>();
      for (const kind of LOAD_KINDS) {
        const storedIds = stored.get(kind)!;
        const storedSet = new Set(storedIds);
        assert.equal(storedSet.size, storedIds.length, `${kind}: an item stored twice`);
        const lost = [...ledger.acknowledged.get(kind)!].filter((id) => !storedSet.has(id));
        assert.equal(lost.length, 0, `${kind}: ${lost.length} acknowledged items lost (first: ${lost.slice(0, 5).join(', ')})`);
        const unexpected = storedIds.filter((id) => !ledger.acknowledged.get(kind)!.has(id) && !ledger.uncertain.get(kind)!.has(id));
        assert.equal(unexpected.length, 0, `${kind}: ${unexpected.length} stored items no acknowledged or unanswered request carried`);
        expected.set(kind, storedSet);
      }

      // Every count computed here from the items themselves.
      const requestIds = [...expected.get('requests')!];
      const analyticsIds = [...expected.get('analytics')!];
      const want: ReadSide = {
        slaTotal: requestIds.length,
        slaFailed: requestIds.filter(requestFails).length,
        analyticsTotal: analyticsIds.length,
        analyticsByType: Object.fromEntries(
          Array.from({ length: ANALYTICS_TYPES }, (_, index) => analyticsType(index))
            .map((type) => [type, analyticsIds.filter((id) => analyticsType(id) === type).length] as const)
            .filter(([, count]) => count > 0),
        ),
      };
      const wantAnomalyPoints = expected.get('metrics')!.size;

      // The killed replica comes back: a new process on the same store.
      const restarted = await startChildVigil(env, undefined, READY_TIMEOUT_MS);
      replicas[victimIndex] = restarted;
      for (const [index, replica] of replicas.entries()) {
        const role = index === victimIndex ? 'the restarted replica' : `survivor ${index}`;
        assert.deepEqual(await readSide(replica.url, day), want, `${role} counts every stored item exactly once`);
      }
      // Anomalies: the replica that ran the consumer last has modelled every metric point once; none more than once.
      const anomalyReports = await Promise.all(replicas.map((replica) => anomalyPoints(replica.url)));
      assert.ok(anomalyReports.every((points) => points <= wantAnomalyPoints), `anomaly points by replica ${anomalyReports.join(', ')}, stored ${wantAnomalyPoints}`);
      assert.equal(Math.max(...anomalyReports), wantAnomalyPoints, `anomaly points by replica ${anomalyReports.join(', ')}`);

      // Destinations: every acknowledged log at Elasticsearch and metric at Datadog, at least once.
      const logIds = new Set(ledger.acknowledged.get('logs'));
      const metricIds = ledger.acknowledged.get('metrics')!;
      const atElasticsearch = () => {
        const found = new Set<string>();
        for (const documents of elasticsearch.indices.values()) for (const document of documents.values()) found.add(String(document['message']));
        return found;
      };
      const atDatadog = () => new Set(datadog.distributions.filter((point) => point.metric === METRIC_NAME).flatMap((point) => point.values));
      await waitFor('every acknowledged log at Elasticsearch and metric at Datadog', () => {
        const logs = atElasticsearch();
        const metrics = atDatadog();
        return [...logIds].every((id) => logs.has(logMessage(id))) && [...metricIds].every((id) => metrics.has(id));
      }, 120_000);
      const datadogValues = datadog.distributions.filter((point) => point.metric === METRIC_NAME).flatMap((point) => point.values);
      const elasticsearchDuplicates = [...elasticsearch.attempts.values()].reduce((sum, attempts) => sum + attempts - 1, 0);
      const datadogDuplicates = datadogValues.length - new Set(datadogValues).size;

      const report = {
        acknowledged: Object.fromEntries(LOAD_KINDS.map((kind) => [kind, ledger.count(kind, 'acknowledged')])),
        unansweredCommitted: Object.fromEntries(LOAD_KINDS.map((kind) => [kind, [...ledger.uncertain.get(kind)!].filter((id) => expected.get(kind)!.has(id)).length])),
        unansweredNotCommitted: Object.fromEntries(LOAD_KINDS.map((kind) => [kind, [...ledger.uncertain.get(kind)!].filter((id) => !expected.get(kind)!.has(id)).length])),
        refused: Object.fromEntries(ledger.refusalStatuses),
        lost: 0,
        anomalyPointsByReplica: anomalyReports,
        victimLeases: leasesOfVictim,
        takeoverSeconds: Object.fromEntries([...takeover].map(([consumer, ms]) => [consumer, Number((ms / 1000).toFixed(2))])),
        duplicates: { elasticsearch: elasticsearchDuplicates, datadog: datadogDuplicates },
      };
      process.stdout.write(`# replicas e2e: ${JSON.stringify(report)}\n`);

      for (const [consumer, ms] of takeover) assert.ok(ms <= TAKEOVER_BOUND_MS, `consumer ${consumer} moved again ${ms} ms after the kill (bound ${TAKEOVER_BOUND_MS} ms)`);
      assert.equal(ledger.refusalStatuses.size, 0, `refused answers: ${JSON.stringify(report.refused)}`);
    } finally {
      for (const replica of replicas) if (replica.process.exitCode === null && replica.process.signalCode === null) replica.process.kill('SIGKILL');
      await Promise.all(replicas.map((replica) => replica.exited));
      await client.end();
      await elasticsearch.stop();
      await datadog.close();
      await database.drop();
    }
  });
});
