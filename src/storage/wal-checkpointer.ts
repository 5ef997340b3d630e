import { Logger } from '@nestjs/common';
import type BetterSqlite3 from 'better-sqlite3';
import { Worker } from 'node:worker_threads';
import type { WalCheckpointWorkerData, WalCheckpointWorkerMessage } from './wal-checkpoint.worker.js';

/**
 * Frames the main connection may leave in the WAL before it checkpoints on its
 * own: the bound on the WAL should the background checkpointer stall or die
 * (16,384 pages of 4 KiB: 64 MiB). SQLite's default is 1,000 pages.
 */
export const FALLBACK_AUTOCHECKPOINT_PAGES = 16_384;
const SQLITE_DEFAULT_AUTOCHECKPOINT_PAGES = 1_000;
// A WAL that grew under a burst is truncated back to this size once checkpointed.
const WAL_SIZE_LIMIT_BYTES = 64 * 1024 * 1024;
const CHECKPOINT_INTERVAL_MS = 100;
// The WAL is rewound once it holds this many frames (8 MiB of 4 KiB pages).
const RESTART_FRAMES = 2_048;

/**
 * Moves WAL checkpoints off the thread that serves requests. SQLite's automatic
 * checkpoint runs inside the committing call: copying the WAL into the database
 * file and fsyncing both stalled the event loop on every ~4 MiB written, and cost
 * ingest about 40 % of its storage time. Here a worker thread checkpoints every
 * 100 ms on its own connection; the main connection only checkpoints itself as a
 * fallback, past FALLBACK_AUTOCHECKPOINT_PAGES. Durability is unchanged: a commit
 * is durable once it is in the WAL, whoever copies it later.
 */
export class WalCheckpointer {
  private readonly logger = new Logger('WalCheckpointer');
  private worker: Worker | undefined;
  private stopped = false;
  /** Frames in the WAL and frames copied, as of the last checkpoint that found any. */
  lastCheckpoint: { frames: number; checkpointed: number } | undefined;

  constructor(
    private readonly connection: BetterSqlite3.Database,
    private readonly path: string,
  ) {}

  start(): void {
    this.connection.pragma(`wal_autocheckpoint = ${FALLBACK_AUTOCHECKPOINT_PAGES}`);
    this.connection.pragma(`journal_size_limit = ${WAL_SIZE_LIMIT_BYTES}`);
    const worker = new Worker(new URL('./wal-checkpoint.worker.js', import.meta.url), {
      workerData: { path: this.path, intervalMs: CHECKPOINT_INTERVAL_MS, restartFrames: RESTART_FRAMES } satisfies WalCheckpointWorkerData,
    });
    worker.on('message', (message: WalCheckpointWorkerMessage) => {
      if ('checkpoint' in message) this.lastCheckpoint = message.checkpoint;
      else this.fallBack(message.failed);
    });
    worker.on('error', (error) => this.fallBack(error.message));
    worker.on('exit', () => {
      if (!this.stopped) this.fallBack('the checkpoint worker exited');
    });
    worker.unref();
    this.worker = worker;
  }

  /** Stops the worker; the main connection checkpoints what is left when it closes. */
  async stop(): Promise<void> {
    this.stopped = true;
    const worker = this.worker;
    this.worker = undefined;
    if (!worker) return;
    const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
    // Unreferenced, the worker would not keep the process alive while it closes.
    worker.ref();
    worker.postMessage('stop');
    await exited;
  }

  private fallBack(reason: string): void {
    if (this.stopped || this.worker === undefined) return;
    this.worker = undefined;
    this.logger.error(`Background WAL checkpoints stopped (${reason}); the main connection checkpoints from now on`);
    this.connection.pragma(`wal_autocheckpoint = ${SQLITE_DEFAULT_AUTOCHECKPOINT_PAGES}`);
  }
}
