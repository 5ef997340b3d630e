import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { getHeapStatistics } from 'node:v8';
import { listenAlso } from './common/second-listener.js';
import { ConfigurationError, type AppConfig } from './config/app.config.js';
import { configFromProcessEnvironment, prepareNewRelicAgentEnvironment } from './config/process-environment.js';
import { BufferingIntakes } from './ingest/buffering-intakes.js';
import { GroupCommitter } from './ingest/group-committer.js';
import { Lifecycle } from './health/health-checks.js';
import { OwnLogShipper } from './logs/own-logs/own-log.shipper.js';

/**
 * Bootstrap and shutdown order. This is the only place that exits the process.
 *
 * SIGTERM / SIGINT: readiness goes down and every request but /health/* answers 503; in-flight
 * commits finish; consumers and delivery stop after their current batch; the
 * HTTP server closes; the store closes last; exit 0. A second signal, or the
 * shutdown timeout, exits 1 at once.
 *
 * An uncaught exception after startup is logged (fatal) and runs the same shutdown,
 * but exits 1 even when it completes: the supervisor restarts Vigil.
 */
async function main(): Promise<void> {
  let config: AppConfig;
  try {
    config = configFromProcessEnvironment();
  } catch (error) {
    if (error instanceof ConfigurationError) {
      process.stderr.write(`${error.message}\n`);
      process.exit(78); // EX_CONFIG
    }
    throw error;
  }
  if (config.newRelic) {
    // The agent must load before anything it instruments (it names transactions by
    // the Fastify route); without a key it is never loaded and costs nothing.
    prepareNewRelicAgentEnvironment();
    await import('newrelic');
  }
  const { createVigilApp } = await import('./app.factory.js');
  const app = await createVigilApp(config);
  const logger = new Logger('Vigil');
  // V8's heap limits are fixed before this runs: the start script passes the budget's flags.
  const heapLimitMebibytes = getHeapStatistics().heap_size_limit / 1024 / 1024;
  if (heapLimitMebibytes > config.memory.oldSpaceMebibytes + 3 * config.memory.semiSpaceMebibytes + 16) {
    logger.warn(
      `The heap may grow to ${Math.round(heapLimitMebibytes)} MiB, past the memory budget's share (VIGIL_MEMORY_BUDGET_MB=${config.memory.totalBytes / 1024 / 1024}): ` +
        'start Vigil with `node $(node dist/src/config/memory-flags.js) dist/src/main.js` (npm run start:prod does)',
    );
  }
  if (config.auth.protectedMode) {
    logger.warn(`No API keys configured: authentication is off and Vigil listens on ${config.http.host} only (protected mode)`);
  }
  await app.listen({ port: config.http.port, host: config.http.host });
  logger.log(`Vigil listening on http://${config.http.host}:${config.http.port} with ${config.database.dialect} storage`);
  if (config.http.otlpPort !== undefined) {
    await listenAlso(app.getHttpServer(), config.http.otlpPort, config.http.host);
    logger.log(`Vigil also listening on http://${config.http.host}:${config.http.otlpPort} (VIGIL_OTLP_PORT)`);
  }

  let shuttingDown = false;
  /**
   * Drains and closes in order, then exits with `exitCode` (or 1 if closing fails);
   * the shutdown timeout exits 1 at once.
   */
  const stop = (exitCode: number) => {
    shuttingDown = true;
    const deadline = setTimeout(() => {
      logger.error(`Shutdown did not finish in ${config.http.shutdownTimeoutMs} ms; exiting`);
      process.exit(1);
    }, config.http.shutdownTimeoutMs);
    deadline.unref();
    app.get(Lifecycle).beginDraining();
    app
      .get(OwnLogShipper)
      .flush()
      .then(() => app.get(BufferingIntakes).flushAll())
      .then(() => app.get(GroupCommitter).stop())
      .then(() => app.close())
      .then(() => {
        logger.log(`Shutdown complete; exiting with code ${exitCode}`);
        process.exit(exitCode);
      })
      .catch((error: unknown) => {
        logger.error({ err: error }, 'Shutdown failed');
        process.exit(1);
      });
  };
  const shutdown = (signal: NodeJS.Signals) => {
    if (shuttingDown) {
      logger.warn(`Second ${signal}: exiting without a clean shutdown`);
      process.exit(1);
    }
    logger.log(`${signal} received: draining`);
    stop(0);
  };
  process.on('SIGTERM', shutdown);
  process.on('SIGINT', shutdown);
  // A rejected promise nobody awaited is logged and Vigil carries on.
  process.on('unhandledRejection', (reason) => logger.error({ err: reason }, 'Unhandled promise rejection'));
  // After an uncaught exception the process state is unknown (Node documents resuming as unsafe):
  // close what can be closed within the shutdown timeout and exit 1, for the supervisor to
  // restart Vigil. Nothing acknowledged is lost: it is in the ingest log, and every consumer
  // resumes from its stored position.
  process.on('uncaughtException', (error) => {
    if (shuttingDown) {
      logger.fatal({ err: error }, 'Uncaught exception while shutting down: exiting with code 1 at once');
      process.exit(1);
    }
    logger.fatal({ err: error }, 'Uncaught exception: closing what can be closed, then exiting with code 1 for the supervisor to restart Vigil');
    stop(1);
  });
}

main().catch((error: unknown) => {
  process.stderr.write(`Vigil failed to start: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
