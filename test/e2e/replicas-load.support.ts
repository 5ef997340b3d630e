/**
 * The load of the replicas e2e test: batches of four kinds, every item with an id of its own
 * written into a field the test can read back (a request's durationMs, an analytics event's
 * properties, a metric's value, a log's message), spread round-robin over the replicas alive,
 * and a ledger of what each answer says about each item.
 */

export type LoadKind = 'requests' | 'analytics' | 'metrics' | 'logs';
export const LOAD_KINDS: readonly LoadKind[] = ['requests', 'analytics', 'metrics', 'logs'];

export const SLA_SERVICE = 'replicas-e2e';
export const METRIC_NAME = 'replicas.e2e.load';
export const LOG_SERVICE = 'replicas-e2e';
/** Analytics event types and users cycle through these many values, so counts per type are several. */
export const ANALYTICS_TYPES = 3;
export const ANALYTICS_USERS = 10;
/** Metrics fall into these many series (tag `slot`), well below the anomaly detector's series cap. */
export const METRIC_SLOTS = 4;

/** Whether the request with this id failed: statusCode 500 (success is statusCode < 500), else 200. */
export function requestFails(id: number): boolean {
  return id % 7 === 0;
}

export function analyticsType(id: number): string {
  return `replica_action_${id % ANALYTICS_TYPES}`;
}

export function logMessage(id: number): string {
  return `replicas e2e log ${id}`;
}

/** The body of one POST /ingest/<kind> carrying these ids. */
export function batchBody(kind: LoadKind, ids: readonly number[]): object {
  switch (kind) {
    case 'requests':
      return { requests: ids.map((id) => ({ service: SLA_SERVICE, operation: 'GET /load', durationMs: id, statusCode: requestFails(id) ? 500 : 200 })) };
    case 'analytics':
      return { events: ids.map((id) => ({ userId: `replica-user-${id % ANALYTICS_USERS}`, sessionId: `replica-session-${id % ANALYTICS_USERS}`, type: analyticsType(id), properties: { id } })) };
    case 'metrics':
      // Distributions: Datadog receives every value of a series and second (a gauge keeps only the last).
      return { metrics: ids.map((id) => ({ name: METRIC_NAME, type: 'distribution', value: id, tags: { slot: String(id % METRIC_SLOTS) } })) };
    case 'logs':
      return { logs: ids.map((id) => ({ message: logMessage(id), level: 'info', service: LOG_SERVICE, attributes: { id } })) };
  }
}

/**
 * What the clients know of each item. `acknowledged`: its request answered 202 with every item
 * accepted. `uncertain`: its request got no answer (the replica was killed with it in flight):
 * committed or not, the test finds out from the log. `refused`: any other answer (a 503 stores
 * nothing of the request).
 */
export class LoadLedger {
  readonly acknowledged = new Map<LoadKind, Set<number>>(LOAD_KINDS.map((kind) => [kind, new Set()]));
  readonly uncertain = new Map<LoadKind, Set<number>>(LOAD_KINDS.map((kind) => [kind, new Set()]));
  readonly refused = new Map<LoadKind, Set<number>>(LOAD_KINDS.map((kind) => [kind, new Set()]));
  readonly refusalStatuses = new Map<number, number>();
  requests = 0;

  count(kind: LoadKind, which: 'acknowledged' | 'uncertain' | 'refused'): number {
    return this[which].get(kind)!.size;
  }

  get totalAcknowledged(): number {
    return LOAD_KINDS.reduce((sum, kind) => sum + this.count(kind, 'acknowledged'), 0);
  }
}

export interface LoadTarget {
  url: string;
  /** False once the test killed it: no new request goes there. */
  alive: boolean;
}

/**
 * Runs `workers` senders until `stop()`: each takes the next replica alive in turn and the next
 * kind in turn, and posts `batchSize` items with fresh ids. Resolves when every sender has ended.
 */
export function runLoad(targets: readonly LoadTarget[], ledger: LoadLedger, options: { workers: number; batchSize: number }): { stop: () => void; done: Promise<void> } {
  let stopped = false;
  let nextId = 1;
  let turn = 0;
  const sender = async (): Promise<void> => {
    while (!stopped) {
      const alive = targets.filter((target) => target.alive);
      if (alive.length === 0) return;
      const target = alive[turn % alive.length]!;
      const kind = LOAD_KINDS[turn % LOAD_KINDS.length]!;
      turn++;
      const ids = Array.from({ length: options.batchSize }, () => nextId++);
      ledger.requests++;
      let status: number;
      let accepted = -1;
      try {
        const response = await fetch(`${target.url}/ingest/${kind}`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(batchBody(kind, ids)),
        });
        status = response.status;
        const text = await response.text();
        if (status === 202) accepted = (JSON.parse(text) as { accepted: number }).accepted;
      } catch {
        for (const id of ids) ledger.uncertain.get(kind)!.add(id);
        continue;
      }
      if (status === 202 && accepted === ids.length) for (const id of ids) ledger.acknowledged.get(kind)!.add(id);
      else {
        ledger.refusalStatuses.set(status, (ledger.refusalStatuses.get(status) ?? 0) + 1);
        for (const id of ids) ledger.refused.get(kind)!.add(id);
      }
    }
  };
  const done = Promise.all(Array.from({ length: options.workers }, sender)).then(() => undefined);
  return { stop: () => (stopped = true), done };
}
