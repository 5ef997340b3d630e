import assert from 'node:assert/strict';
import { setTimeout as delay } from 'node:timers/promises';
import { after, before, describe, test } from 'node:test';
import { ManualClock } from '../../src/common/clock.js';
import { sqliteDatabase } from '../support/databases.js';
import { getJson, postJson, startApp, type RunningApp } from '../support/app.js';
import { advanceUntil, metricsText, sample } from './delivery-support.js';
import { datadogSubject, elasticsearchSubject, newRelicSubject, splunkSubject, SUBJECTS, type Subject } from './destination-contract.support.js';

/**
 * The delivery core's shared destination tests (issue 4, for the core of
 * issue 3): the same scenarios against Datadog, New Relic, Elasticsearch and
 * Splunk HEC, through the whole app on SQLite, each destination's env pointing
 * at its fake through a Tap (receive times on the test clock, network faults).
 *
 * Time: a ManualClock drives every wait of the core (flush, backoff, pauses);
 * `advanceUntil` moves it a second per step, so minutes pass in a fraction of a
 * second of real time.
 */

const ADMIN_KEY = 'admin-key-0123456789';
const admin = { authorization: `Bearer ${ADMIN_KEY}` };
const START = Date.UTC(2026, 0, 1, 12);
const FLUSH_MS = 1000;
const RETRY_AFTER_S = 120;
const DAY_MS = 86_400_000;
/** Refusals of the credentials in a row before the fake accepts again (the key was fixed): backoff grows over them. */
const CONFIGURATION_REFUSALS = 4;

interface DeadLetter {
  destination: string;
  reason: string;
  status: number | null;
  detail: string;
  item: Record<string, unknown>;
}

/** Waits in real time, the clock standing still. */
async function waitReal(what: string, done: () => boolean | Promise<boolean>, realMs = 5_000): Promise<void> {
  const deadline = Date.now() + realMs;
  while (!(await done())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await delay(10);
  }
}

function books(text: string, destination: string) {
  const outcome = (name: string) => sample(text, 'vigil_delivery_items_total', { destination, outcome: name });
  return {
    accepted: outcome('accepted'),
    delivered: outcome('delivered'),
    queued: sample(text, 'vigil_delivery_queue_depth_items', { destination }),
    deadLettered: outcome('dead_lettered'),
    dropped: outcome('dropped'),
  };
}

/** How many times each id arrived at the subject's fake. */
function countsOf(subject: Subject, ids: readonly string[]): number[] {
  const arrivals = subject.arrivals();
  return ids.map((id) => arrivals.filter((arrival) => arrival.id === id).length);
}

function ids(prefix: string, count: number): string[] {
  return Array.from({ length: count }, (_, index) => `${prefix}-${index}`);
}

/** Everything one destination's app needs across its scenarios, and the books the test keeps independently. */
class Harness {
  vigil!: RunningApp;
  readonly ledger = { accepted: 0, delivered: 0, deadLettered: 0 };

  constructor(
    readonly clock: ManualClock,
    readonly subject: Subject,
  ) {}

  async ingest(itemIds: readonly string[], timestampMs = this.clock.now(), endpoint: string = this.subject.endpoint): Promise<void> {
    const items = itemIds.map((id, index) =>
      endpoint === 'events' ? { title: id, text: `text of ${id}`, timestamp: timestampMs } : this.subject.item(id, index, timestampMs),
    );
    const response = await postJson(`${this.vigil.url}/ingest/${endpoint}`, { [endpoint === 'events' ? 'events' : endpoint]: items }, admin);
    assert.equal(response.status, 202, response.text);
    assert.equal(response.body['accepted'], items.length);
    this.ledger.accepted += items.length;
  }

  async deadLetters(): Promise<DeadLetter[]> {
    const listing = await getJson(`${this.vigil.url}/admin/dead-letters?destination=${this.subject.name}&limit=1000`, admin);
    assert.equal(listing.status, 200, listing.text);
    return listing.body['items'] as DeadLetter[];
  }

  async lettersFor(itemIds: readonly string[]): Promise<DeadLetter[]> {
    const wanted = new Set(itemIds);
    return (await this.deadLetters()).filter((letter) => wanted.has(String(letter.item['message'] ?? (letter.item['tags'] as Record<string, string> | undefined)?.['id'])));
  }

  async retries(reason: string): Promise<number> {
    return sample(await metricsText(this.vigil.url), 'vigil_delivery_retries_total', { destination: this.subject.name, reason });
  }

  /** Waits until nothing is queued, then checks the books against the test's own ledger, exactly. */
  async assertBooks(): Promise<void> {
    await advanceUntil(this.clock, 'the queue to drain', async () => books(await metricsText(this.vigil.url), this.subject.name).queued === 0);
    const current = books(await metricsText(this.vigil.url), this.subject.name);
    assert.equal(current.accepted, current.delivered + current.queued + current.deadLettered + current.dropped, 'the books balance');
    assert.deepEqual(current, { accepted: this.ledger.accepted, delivered: this.ledger.delivered, queued: 0, deadLettered: this.ledger.deadLettered, dropped: 0 });
  }
}

for (const makeSubject of SUBJECTS) {
  const clock = new ManualClock(START);
  const subject = makeSubject(clock);
  const harness = new Harness(clock, subject);
  const dataRequests = (since: number) => subject.tap.matching(subject.dataPath, since);
  /** Statuses of the data requests since `since`, once every answer is back (the fake may record items before its answer reaches the tap). */
  const statuses = async (since: number) => {
    await waitReal('every answer through the tap', () => dataRequests(since).every((request) => request.status !== 0));
    return dataRequests(since).map((request) => (request.status >= 200 && request.status < 300 ? 'ok' : request.status));
  };

  describe(`destination contract: ${subject.name}`, () => {
    before(async () => {
      await subject.start();
      harness.vigil = await startApp(
        { DATABASE_URL: sqliteDatabase().url, VIGIL_ADMIN_KEYS: ADMIN_KEY, VIGIL_DELIVERY_FLUSH_INTERVAL_MS: String(FLUSH_MS), ...subject.env() },
        { clock },
      );
    });
    after(async () => {
      subject.tap.release();
      await harness.vigil.close();
      await subject.stop();
    });

    test('1. every accepted item arrives once, with its content; the books balance', async () => {
      const sent = ids('s1', 20);
      const at = clock.now() - 5000;
      await harness.ingest(sent, at);
      const events = subject.takesEvents ? ids('s1e', 3) : [];
      if (subject.takesEvents) await harness.ingest(events, at, 'events');
      await advanceUntil(clock, 'every item', () => countsOf(subject, [...sent, ...events]).every((count) => count >= 1));
      harness.ledger.delivered += sent.length + events.length;
      assert.deepEqual(countsOf(subject, [...sent, ...events]), [...sent, ...events].map(() => 1), 'each item exactly once');
      const arrivals = subject.arrivals();
      sent.forEach((id, index) => {
        const arrival = arrivals.find((candidate) => candidate.id === id)!;
        const content = subject.endpoint === 'metrics' ? index : index % 2 === 0 ? 'info' : 'error';
        assert.deepEqual(arrival, { id, kind: subject.endpoint === 'metrics' ? 'metric' : 'log', content, timestampMs: at });
      });
      for (const id of events) assert.deepEqual(arrivals.find((candidate) => candidate.id === id), { id, kind: 'event', content: `text of ${id}`, timestampMs: at });
      await harness.assertBooks();
    });

    test('2a. a transient 503 is retried, then delivered once', async () => {
      const since = subject.tap.requests.length;
      const retriesBefore = await harness.retries('server_error');
      subject.inject503();
      const sent = ids('s2a', 5);
      await harness.ingest(sent);
      await advanceUntil(clock, 'delivery after the 503', () => countsOf(subject, sent).every((count) => count >= 1));
      harness.ledger.delivered += sent.length;
      assert.deepEqual(await statuses(since), [503, 'ok']);
      assert.deepEqual(countsOf(subject, sent), [1, 1, 1, 1, 1], 'the refused request was not processed: no duplicate');
      assert.equal((await harness.retries('server_error')) - retriesBefore, 1);
      await harness.assertBooks();
    });

    test('2b. a network failure (connection reset) is retried, then delivered once', async () => {
      const since = subject.tap.requests.length;
      const retriesBefore = await harness.retries('network');
      subject.tap.faultPath = subject.dataPath;
      subject.tap.resets = 1;
      const sent = ids('s2b', 5);
      await harness.ingest(sent);
      await advanceUntil(clock, 'delivery after the reset', () => countsOf(subject, sent).every((count) => count >= 1));
      harness.ledger.delivered += sent.length;
      assert.deepEqual(await statuses(since), [-1, 'ok']);
      assert.deepEqual(countsOf(subject, sent), [1, 1, 1, 1, 1], 'the reset request never reached the fake: no duplicate');
      assert.equal((await harness.retries('network')) - retriesBefore, 1);
      await harness.assertBooks();
    });

    for (const form of ['seconds', 'HTTP date'] as const) {
      test(`3. 429 with Retry-After as ${form} pauses the destination at least that long`, async (context) => {
        const since = subject.tap.requests.length;
        const retryAfter = form === 'seconds' ? String(RETRY_AFTER_S) : new Date(clock.now() + RETRY_AFTER_S * 1000).toUTCString();
        subject.inject429(retryAfter);
        const sent = ids(`s3${form === 'seconds' ? 's' : 'd'}`, 3);
        await harness.ingest(sent);
        await advanceUntil(clock, 'delivery after the 429', () => countsOf(subject, sent).every((count) => count >= 1));
        harness.ledger.delivered += sent.length;
        assert.deepEqual(await statuses(since), [429, 'ok'], 'no data request during the pause');
        const [refused, retried] = dataRequests(since);
        const earliest = form === 'seconds' ? refused!.at + RETRY_AFTER_S * 1000 : Date.parse(retryAfter);
        context.diagnostic(`retried ${retried!.at - refused!.at} ms (test clock) after the 429; Retry-After ${retryAfter}`);
        assert.ok(retried!.at >= earliest, `retried ${retried!.at - refused!.at} ms after the 429; Retry-After ${retryAfter}`);
        assert.deepEqual(countsOf(subject, sent), [1, 1, 1]);
        await harness.assertBooks();
      });
    }

    for (const permanent of subject.permanentCases) {
      test(`4. ${permanent.label} goes to dead letters with status and reason, never retried`, async () => {
        const since = subject.tap.requests.length;
        permanent.inject();
        const sent = ids(`s4-${permanent.expectStatus}-${subject.permanentCases.indexOf(permanent)}`, 2);
        await harness.ingest(sent);
        await advanceUntil(clock, 'dead letters', async () => (await harness.lettersFor(sent)).length === 2);
        harness.ledger.deadLettered += sent.length;
        // A later item goes through: the queue moved past the refused batch without retrying it.
        const probe = [`${sent[0]}-probe`];
        await harness.ingest(probe);
        await advanceUntil(clock, 'the probe', () => countsOf(subject, probe)[0] === 1);
        harness.ledger.delivered += 1;
        assert.deepEqual(await statuses(since), [permanent.expectStatus, 'ok'], 'one attempt for the refused batch, one for the probe');
        assert.deepEqual(countsOf(subject, sent), [0, 0]);
        for (const letter of await harness.lettersFor(sent)) {
          assert.equal(letter.reason, 'rejected');
          assert.equal(letter.status, permanent.expectStatus);
          assert.match(letter.detail, permanent.expectDetail);
        }
        await harness.assertBooks();
      });
    }

    for (const refusal of subject.configurationCases) {
      test(`4c. ${refusal.label} refuses the credentials or settings, not the items: retried with backoff until accepted, nothing dead-lettered`, async () => {
        const since = subject.tap.requests.length;
        const retriesBefore = await harness.retries('configuration');
        refusal.inject(CONFIGURATION_REFUSALS);
        const sent = ids(`s4c-${refusal.expectStatus}-${subject.configurationCases.indexOf(refusal)}`, 3);
        await harness.ingest(sent);
        await advanceUntil(clock, 'delivery once the refusals stop', () => countsOf(subject, sent).every((count) => count >= 1));
        harness.ledger.delivered += sent.length;
        const refused = Array.from({ length: CONFIGURATION_REFUSALS }, () => refusal.expectStatus);
        assert.deepEqual(await statuses(since), [...refused, 'ok'], 'the same batch retried until accepted');
        assert.deepEqual(countsOf(subject, sent), [1, 1, 1]);
        assert.deepEqual(await harness.lettersFor(sent), [], 'nothing dead-lettered');
        assert.equal((await harness.retries('configuration')) - retriesBefore, CONFIGURATION_REFUSALS);
        await harness.assertBooks();
      });
    }

    // Only Elasticsearch answers per item; the others refuse whole batches (scenario 4).
    if (subject.perItemRejection !== null) test('4b. per-item refusals (Elasticsearch mapping errors) dead-letter those items only, never retried', async () => {
      const rejection = subject.perItemRejection!;
      const since = subject.tap.requests.length;
      rejection.inject('s4b-bad');
      const bad = ids('s4b-bad', 2);
      const good = ids('s4b-good', 3);
      await harness.ingest([...good.slice(0, 1), ...bad, ...good.slice(1)]);
      await advanceUntil(clock, 'dead letters', async () => (await harness.lettersFor(bad)).length === 2);
      harness.ledger.deadLettered += bad.length;
      harness.ledger.delivered += good.length;
      await harness.assertBooks();
      rejection.clear();
      assert.deepEqual(await statuses(since), ['ok'], 'one _bulk request, not retried');
      assert.deepEqual(countsOf(subject, good), [1, 1, 1]);
      assert.deepEqual(countsOf(subject, bad), [0, 0]);
      for (const letter of await harness.lettersFor(bad)) {
        assert.equal(letter.reason, 'rejected');
        assert.equal(letter.status, rejection.expectStatus);
        assert.match(letter.detail, rejection.expectDetail);
      }
    });

    if (subject.inject413 !== null) test('5. 413 splits the batch in half; every item arrives once', async () => {
      const since = subject.tap.requests.length;
      subject.inject413!();
      const sent = ids('s5', 8);
      await harness.ingest(sent);
      await advanceUntil(clock, 'the split batch', () => countsOf(subject, sent).every((count) => count >= 1));
      harness.ledger.delivered += sent.length;
      assert.deepEqual(await statuses(since), [413, 'ok', 'ok']);
      assert.deepEqual(countsOf(subject, sent), sent.map(() => 1));
      await harness.assertBooks();
    });

    if (subject.maxAgeMs !== null) {
      const maxAgeMs = subject.maxAgeMs;
      test(`6. an item older than ${maxAgeMs / 3_600_000} h is dead-lettered as expired, never sent; a younger one is delivered`, async () => {
        const since = subject.tap.requests.length;
        const old = ['s6-old'];
        const young = ['s6-young'];
        await harness.ingest(old, clock.now() - maxAgeMs - 60_000);
        await harness.ingest(young, clock.now() - maxAgeMs + 600_000);
        await advanceUntil(clock, 'the young item and the expired letter', async () => countsOf(subject, young)[0] === 1 && (await harness.lettersFor(old)).length === 1);
        harness.ledger.delivered += 1;
        harness.ledger.deadLettered += 1;
        assert.deepEqual(countsOf(subject, old), [0], 'the expired item was never sent');
        assert.equal(dataRequests(since).length, 1, 'one request, carrying only the young item');
        const [letter] = await harness.lettersFor(old);
        assert.equal(letter!.reason, 'expired');
        assert.equal(letter!.status, null);
        assert.match(letter!.detail, /older than/);
        await harness.assertBooks();
        const text = await metricsText(harness.vigil.url);
        assert.equal(sample(text, 'vigil_delivery_dead_lettered_total', { destination: subject.name, reason: 'expired' }), 1);
      });
    } else {
      // Log destinations have no age limit (Elasticsearch indexes any @timestamp; HEC takes any `time`).
      test('6. logs have no age limit: logs 30 days and 2 years old are delivered, with their own time', async () => {
        const monthOld = ['s6-month'];
        const yearsOld = ['s6-years'];
        const monthAt = clock.now() - 30 * DAY_MS;
        const yearsAt = clock.now() - 730 * DAY_MS;
        await harness.ingest(monthOld, monthAt);
        await harness.ingest(yearsOld, yearsAt);
        await advanceUntil(clock, 'old logs', () => countsOf(subject, [...monthOld, ...yearsOld]).every((count) => count >= 1));
        harness.ledger.delivered += 2;
        assert.deepEqual(countsOf(subject, [...monthOld, ...yearsOld]), [1, 1]);
        const arrivals = subject.arrivals();
        assert.equal(arrivals.find((arrival) => arrival.id === 's6-month')!.timestampMs, monthAt);
        assert.equal(arrivals.find((arrival) => arrival.id === 's6-years')!.timestampMs, yearsAt);
        assert.equal((await harness.lettersFor([...monthOld, ...yearsOld])).length, 0);
        await harness.assertBooks();
      });
    }
  });
}

/**
 * 7. A dead destination does not delay a healthy one of the same kinds in the
 * same app: first the dead one answers 503 forever, then it hangs. With the
 * clock moved exactly one flush interval after each ingest, the healthy one has
 * every item; when the dead one heals, it gets every item too.
 */
const PAIRS: Array<{ dead: (clock: ManualClock) => Subject; healthy: (clock: ManualClock) => Subject }> = [
  { dead: datadogSubject, healthy: newRelicSubject },
  { dead: newRelicSubject, healthy: datadogSubject },
  { dead: elasticsearchSubject, healthy: splunkSubject },
  { dead: splunkSubject, healthy: elasticsearchSubject },
];

for (const pair of PAIRS) {
  const clock = new ManualClock(START);
  const dead = pair.dead(clock);
  const healthy = pair.healthy(clock);
  describe(`7. dead ${dead.name} does not delay healthy ${healthy.name}`, () => {
    const deadHarness = new Harness(clock, dead);
    const healthyHarness = new Harness(clock, healthy);
    before(async () => {
      await dead.start();
      await healthy.start();
      const vigil = await startApp(
        { DATABASE_URL: sqliteDatabase().url, VIGIL_ADMIN_KEYS: ADMIN_KEY, VIGIL_DELIVERY_FLUSH_INTERVAL_MS: String(FLUSH_MS), ...dead.env(), ...healthy.env() },
        { clock },
      );
      deadHarness.vigil = vigil;
      healthyHarness.vigil = vigil;
    });
    after(async () => {
      dead.tap.release();
      await deadHarness.vigil.close();
      await dead.stop();
      await healthy.stop();
    });

    test('503 forever, then a hang: the healthy destination gets each round one flush interval after ingest', async () => {
      const all: string[] = [];
      const round = async (label: string) => {
        const sent = ids(label, 10);
        all.push(...sent);
        await healthyHarness.ingest(sent);
        deadHarness.ledger.accepted += sent.length;
        clock.advance(FLUSH_MS);
        await waitReal(`${label} at ${healthy.name}`, () => countsOf(healthy, sent).every((count) => count === 1));
        healthyHarness.ledger.delivered += sent.length;
        assert.deepEqual(countsOf(dead, sent), sent.map(() => 0));
      };

      dead.failForever();
      for (const label of ['r503a', 'r503b', 'r503c']) await round(label);
      const deadAttempts = dead.tap.matching(dead.dataPath);
      assert.ok(deadAttempts.length >= 1, `${dead.name} was tried`);
      assert.ok(deadAttempts.every((request) => request.status === 503));

      // Now it hangs: its next attempt never gets an answer.
      dead.heal();
      dead.tap.faultPath = dead.dataPath;
      dead.tap.hang = true;
      await advanceUntil(clock, `${dead.name} to hang`, () => dead.tap.matching(dead.dataPath).some((request) => request.status === 0));
      for (const label of ['rhanga', 'rhangb', 'rhangc']) await round(label);
      assert.ok(dead.tap.matching(dead.dataPath).some((request) => request.status === 0), `${dead.name} is still hung`);
      await healthyHarness.assertBooks();

      // Healed: the dead one gets everything (at least once), and both books balance.
      dead.tap.release();
      await advanceUntil(clock, `${dead.name} to catch up`, () => countsOf(dead, all).every((count) => count >= 1), 20_000);
      deadHarness.ledger.delivered += all.length;
      await deadHarness.assertBooks();
      await healthyHarness.assertBooks();
    });
  });
}
