import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DASHBOARD_TITLE, upsertVigilDashboard } from '../../src/apm/datadog/datadog.dashboard.js';
import { FakeDatadog } from '../fakes/datadog-intake.js';

test('datadog:dashboard creates the Vigil dashboard once and updates it by title afterwards', async () => {
  const fake = new FakeDatadog('dd-key-0123456789');
  await fake.start();
  try {
    const config = { apiKey: fake.apiKey, appKey: fake.appKey, site: 'datadoghq.com', apiUrl: fake.url };
    const first = await upsertVigilDashboard(config, 'staging');
    const second = await upsertVigilDashboard(config, 'staging');
    assert.equal(first.created, true);
    assert.equal(second.created, false);
    assert.equal(second.id, first.id);
    assert.equal(fake.dashboards.size, 1);
    const dashboard = fake.dashboards.get(first.id)!;
    assert.equal(dashboard.title, DASHBOARD_TITLE);
    const titles = (dashboard.widgets as Array<{ definition: { title: string } }>).map((widget) => widget.definition.title);
    for (const wanted of ['API response time (ms)', 'Total requests', 'Cache hit rate (%)', 'Delivery queue depth (items)']) assert.ok(titles.includes(wanted), wanted);
    assert.match(JSON.stringify(dashboard.widgets), /env:staging/);
    await assert.rejects(upsertVigilDashboard({ ...config, appKey: 'wrong' }, 'staging'));
  } finally {
    await fake.close();
  }
});
