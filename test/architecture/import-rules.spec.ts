import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

/**
 * The house rules of ARCHITECTURE.md, read from the imports of src/**\/*.ts (spec files aside):
 * which part may know which. A rule a refactor has not reached yet is listed in PENDING with the
 * exact violations it allows; the test fails on any other violation and on a pending one that
 * has gone (so the list only shrinks).
 */
const REPOSITORY = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const SOURCE = join(REPOSITORY, 'src');
const MAX_LINES = 450;

interface SourceFile {
  /** Path under src/, e.g. `delivery/destination.ts`. */
  path: string;
  lines: number;
  /** Paths under src/ of the files it imports (relative imports only). */
  imports: string[];
}

function sourceFiles(directory = SOURCE): SourceFile[] {
  return readdirSync(directory, { withFileTypes: true }).flatMap((entry) => {
    const full = join(directory, entry.name);
    if (entry.isDirectory()) return sourceFiles(full);
    if (!entry.name.endsWith('.ts') || entry.name.endsWith('.spec.ts') || entry.name.endsWith('.d.ts')) return [];
    const text = readFileSync(full, 'utf8');
    const imports = [...text.matchAll(/(?:from|import)\s*\(?\s*'(\.{1,2}\/[^']+)'/g)].map((match) =>
      relative(SOURCE, resolve(dirname(full), match[1]!)).replace(/\.js$/, '.ts'),
    );
    return [{ path: relative(SOURCE, full), lines: text.split('\n').length, imports }];
  });
}

const FILES = sourceFiles();
const folderOf = (path: string) => dirname(path);
const inFolder = (path: string, folder: string) => path === folder || path.startsWith(`${folder}/`);
const destinationFolders = [...new Set(FILES.filter((file) => file.path.endsWith('.destination.ts')).map((file) => folderOf(file.path)))];
const FEATURES_STORAGE_MUST_NOT_KNOW = ['ingest', 'ingest-log', 'delivery', 'sla', 'anomalies', 'analytics', 'metrics', 'health', ...destinationFolders];
const DERIVED_STATE_FEATURES = ['sla', 'anomalies', 'analytics'];
const INTAKES = 'intakes';
const INTAKE_LIST = 'intakes/intakes.list.ts';
/** The list is read by the bootstrap (the modules, browser paths for CORS) and by configuration (their variables). */
const LIST_READERS = ['app.module.ts', 'app.factory.ts', 'config/app.config.ts'];
/** Each intake is a folder `intakes/<name>/`. */
const intakeFolders = [...new Set(FILES.filter((file) => file.path.split('/').length > 2 && inFolder(file.path, INTAKES)).map((file) => file.path.split('/').slice(0, 2).join('/')))];
/** What an intake never imports: storage, the log beyond its kinds and item types, the group commit. */
const intakeMayNotImport = (target: string) =>
  inFolder(target, 'storage') || (inFolder(target, 'ingest-log') && target !== 'ingest-log/ingest-log.items.ts') || target === 'ingest/group-committer.ts';

/** Every violation of every rule, as `rule: detail` lines. */
function violations(): string[] {
  const found: string[] = [];
  for (const file of FILES) {
    if (file.lines > MAX_LINES) found.push(`file length: ${file.path} has ${file.lines} lines`);
    const ownDestination = destinationFolders.find((folder) => inFolder(file.path, folder));
    for (const target of file.imports) {
      if (ownDestination !== undefined) {
        if (inFolder(target, 'storage')) found.push(`destination imports storage: ${file.path} → ${target}`);
        const other = destinationFolders.find((folder) => folder !== ownDestination && inFolder(target, folder));
        if (other !== undefined) found.push(`destination imports another: ${file.path} → ${target}`);
      }
      if (inFolder(file.path, 'storage')) {
        const feature = FEATURES_STORAGE_MUST_NOT_KNOW.find((folder) => inFolder(target, folder));
        if (feature !== undefined) found.push(`storage imports a feature: ${file.path} → ${target}`);
      }
      const ownIntake = intakeFolders.find((folder) => inFolder(file.path, folder));
      if (ownIntake !== undefined) {
        if (intakeMayNotImport(target)) found.push(`intake imports storage or the log: ${file.path} → ${target}`);
        const other = intakeFolders.find((folder) => folder !== ownIntake && inFolder(target, folder));
        if (other !== undefined) found.push(`intake imports another: ${file.path} → ${target}`);
      } else if (file.path !== INTAKE_LIST && inFolder(target, INTAKES) && !(LIST_READERS.includes(file.path) && target === INTAKE_LIST)) {
        found.push(`intake named outside the list: ${file.path} → ${target}`);
      }
      const feature = DERIVED_STATE_FEATURES.find((folder) => inFolder(file.path, folder));
      if (feature !== undefined) {
        const other = [...DERIVED_STATE_FEATURES.filter((folder) => folder !== feature), 'metrics'].find((folder) => inFolder(target, folder));
        if (other !== undefined) found.push(`${feature} imports ${other}: ${file.path} → ${target}`);
      }
    }
  }
  for (const folder of destinationFolders) {
    const importers = new Set(FILES.filter((file) => !inFolder(file.path, folder) && file.imports.some((target) => inFolder(target, folder))).map((file) => file.path));
    if (importers.size > 1) found.push(`destination imported from ${importers.size} files outside it: ${folder} ← ${[...importers].sort().join(', ')}`);
  }
  return found.sort();
}

/**
 * Violations the refactors of issue 20 have not removed yet. Each line is exact: when a
 * refactor removes one, delete it here.
 */
const PENDING: readonly string[] = [];

test('the import rules of ARCHITECTURE.md hold, but for the listed pending violations', () => {
  const found = violations();
  const unexpected = found.filter((line) => !PENDING.includes(line));
  const gone = PENDING.filter((line) => !found.includes(line));
  assert.deepEqual({ unexpected, gone }, { unexpected: [], gone: [] });
});

test('the rules see the code: destinations, storage and the derived-state features are found', () => {
  assert.deepEqual(destinationFolders.sort(), ['apm/datadog', 'apm/newrelic', 'logs/elasticsearch', 'logs/splunk']);
  assert.deepEqual(intakeFolders.sort(), ['intakes/datadog', 'intakes/elasticsearch-bulk', 'intakes/json', 'intakes/otlp', 'intakes/posthog', 'intakes/segment', 'intakes/splunk-hec']);
  assert.ok(FILES.some((file) => file.path === INTAKE_LIST), INTAKE_LIST);
  assert.ok(FILES.some((file) => inFolder(file.path, 'storage')));
  for (const feature of DERIVED_STATE_FEATURES) assert.ok(FILES.some((file) => inFolder(file.path, feature)), feature);
  // A JSON import is data (the OTLP intake's generated protobuf descriptor), not code.
  assert.ok(FILES.every((file) => file.imports.every((target) => target.endsWith('.ts') || target.endsWith('.json') || !target.includes('.'))), 'imports resolve to .ts or .json files');
});
