import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { TargetsFileError, loadTargetsFile } from '../../src/sla/sla-target.js';

function file(name: string, text: string): string {
  const path = join(mkdtempSync(join(tmpdir(), 'vigil-sla-targets-')), name);
  writeFileSync(path, text);
  return path;
}

describe('targets file', () => {
  test('YAML: targets, defaults removed with null, window default 30d', () => {
    const loaded = loadTargetsFile(
      file('targets.yml', 'targets:\n  checkout:\n    name: Checkout\n    p95Ms: 300\n    p99Ms: 800\n    availabilityPercent: 99.95\n    errorRatePercent: 0.5\n  cache: null\n'),
    );
    assert.deepEqual(loaded.removed, ['cache']);
    assert.deepEqual(loaded.targets, [
      { service: 'checkout', name: 'Checkout', p95Ms: 300, p99Ms: 800, availabilityPercent: 99.95, errorRatePercent: 0.5, window: '30d', source: 'file' },
    ]);
  });

  test('JSON without the targets level', () => {
    const loaded = loadTargetsFile(file('targets.json', JSON.stringify({ search: { p95Ms: 50, p99Ms: 90, availabilityPercent: 99, errorRatePercent: 1, window: '7d' } })));
    assert.equal(loaded.targets[0]!.window, '7d');
    assert.equal(loaded.targets[0]!.name, 'search');
  });

  test('every problem is listed with its path', () => {
    const path = file('bad.yml', 'targets:\n  api:\n    p95Ms: fast\n    p99Ms: 10\n    availabilityPercent: 120\n    errorRatePercent: 1\n    window: 2h\n');
    assert.throws(
      () => loadTargetsFile(path),
      (error: unknown) =>
        error instanceof TargetsFileError &&
        /targets\.api\.p95Ms must be a finite number/.test(error.message) &&
        /targets\.api\.availabilityPercent must not be greater than 100/.test(error.message) &&
        /targets\.api\.window must be one of the following values/.test(error.message),
    );
    assert.throws(() => loadTargetsFile(join(tmpdir(), 'does-not-exist.yml')), /cannot be read/);
    assert.throws(() => loadTargetsFile(file('broken.yml', 'targets: [\n')), /is not valid YAML or JSON/);
  });

  test('as the API says it: "required" for a missing field, one message per wrong field, none for the right ones', () => {
    const path = file('missing.yml', 'targets:\n  api:\n    p95Ms: 300\n    availabilityPercent: 99.9\n    errorRatePercent: -1\n    p90Ms: 5\n  search:\n    p95Ms: fast\n    p99Ms: ~\n    availabilityPercent: 99\n    errorRatePercent: 1\n');
    assert.throws(
      () => loadTargetsFile(path),
      (error: unknown) => {
        assert.ok(error instanceof TargetsFileError);
        assert.deepEqual(error.problems, [
          'targets.api.p90Ms is not a known field',
          'targets.api.p99Ms is required',
          'targets.api.errorRatePercent must not be less than 0',
          'targets.search.p95Ms must be a finite number',
          'targets.search.p99Ms is required',
        ]);
        return true;
      },
    );
  });
});
