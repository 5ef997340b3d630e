import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

/** The sources, read from the repository (the tests compile to dist/test). */
const SRC = fileURLToPath(new URL('../../../src/', import.meta.url));
const SPECIFIER = /(?:import|export)\s+(?:type\s+)?(?:[^'";]*?\s+from\s+)?['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g;

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sources(path);
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.spec.ts') ? [path] : [];
  });
}

/** The top folder of src/ a path is in (null for files directly in src/). */
function featureOf(path: string): string | null {
  const parts = relative(SRC, path).split(/[\\/]/);
  return parts.length > 1 ? parts[0]! : null;
}

test('sla, anomalies and analytics import nothing from one another nor from src/metrics/', () => {
  const derived = ['sla', 'anomalies', 'analytics'];
  const violations: string[] = [];
  for (const file of sources(SRC)) {
    const from = featureOf(file);
    if (from === null || !derived.includes(from)) continue;
    for (const match of readFileSync(file, 'utf8').matchAll(SPECIFIER)) {
      const specifier = match[1] ?? match[2]!;
      if (!specifier.startsWith('.')) continue;
      const to = featureOf(resolve(dirname(file), specifier));
      if (to !== from && to !== null && (derived.includes(to) || to === 'metrics')) violations.push(`${relative(SRC, file)} -> ${specifier}`);
    }
  }
  assert.deepEqual(violations, []);
});
