import { memoryBudgetOf, nodeFlagsOf, parseMemoryBudget } from './memory-budget.js';

/**
 * Prints the V8 flags of VIGIL_MEMORY_BUDGET_MB for the start script:
 * `node $(node dist/src/config/memory-flags.js) dist/src/main.js` (`npm run start:prod`, the
 * Dockerfile). V8 sizes its heap as the process starts, so Vigil's own process cannot apply them;
 * a second process or a Worker running the app would have cost more than one extra start of Node.
 * An invalid budget prints nothing: main.ts then refuses it with every other configuration problem.
 */
const parsed = parseMemoryBudget(process.env['VIGIL_MEMORY_BUDGET_MB']);
if ('mebibytes' in parsed) process.stdout.write(`${nodeFlagsOf(memoryBudgetOf(parsed.mebibytes)).join(' ')}\n`);
