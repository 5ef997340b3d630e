import { existsSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { fileURLToPath } from 'node:url';
import { join, resolve } from 'node:path';
import type { BenchOptions, BenchSection } from './bench-section.js';

/**
 * `npm run bench`: runs every section (bench/<name>.bench.ts) in turn and prints
 * its figures; `npm run bench -- ingest sla` runs only those; `--previous=<checkout>` adds an
 * earlier build (see BenchOptions). Measures, never asserts.
 */
const SECTIONS = ['ingest', 'intakes', 'otlp', 'delivery', 'sla', 'anomalies', 'analytics', 'metrics', 'hostile', 'postgres', 'replicas'];

async function main(): Promise<void> {
  const previous = process.argv.find((argument) => argument.startsWith('--previous='))?.slice('--previous='.length);
  const options: BenchOptions = previous ? { previousMain: join(resolve(previous), 'dist', 'src', 'main.js') } : {};
  if (options.previousMain && !existsSync(options.previousMain)) throw new Error(`${options.previousMain} does not exist: build that checkout first`);
  const wanted = process.argv.slice(2).filter((argument) => !argument.startsWith('--'));
  const names = wanted.length > 0 ? SECTIONS.filter((name) => wanted.includes(name)) : SECTIONS;
  console.log(`Vigil benchmark — ${new Date().toISOString()} — node ${process.version}, ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${Math.round(totalmem() / 2 ** 30)} GiB`);
  for (const name of names) {
    const file = fileURLToPath(new URL(`./${name}.bench.js`, import.meta.url));
    if (!existsSync(file)) {
      console.log(`\n## ${name}: no benchmark yet`);
      continue;
    }
    const section = (await import(file)) as { run: (options: BenchOptions) => Promise<BenchSection> };
    const started = Date.now();
    const result = await section.run(options);
    console.log(`\n## ${result.title} (${Math.round((Date.now() - started) / 1000)} s)`);
    for (const row of result.rows) {
      const ratio = row.ratio !== undefined ? `  ratio ${row.ratio}` : '';
      const target = row.target ? `  [target ${row.target}]` : '';
      const note = row.note ? `  (${row.note})` : '';
      console.log(`- ${row.name}: ${row.value.toLocaleString('en-US')} ${row.unit}${ratio}${target}${note}`);
    }
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
