import BetterSqlite3 from 'better-sqlite3';
import { parentPort, workerData } from 'node:worker_threads';

/**
 * Runs in a worker thread with its own connection to the SQLite file and copies
 * committed WAL frames into the database file with PASSIVE checkpoints, which
 * never wait for, nor block, the writer on the main thread.
 *
 * Under a steady stream of commits a passive checkpoint is never complete when
 * the next commit starts, so the writer never rewinds the WAL and it would grow
 * to the fallback bound. Once the WAL holds `restartFrames` and a passive pass
 * has copied nearly all of it, a RESTART checkpoint copies the few frames left
 * while holding off the writer, and the next commit writes from the start of the
 * WAL again. A RESTART blocks writers for as long as it waits (for the current
 * write transaction, then for readers still on the WAL), and the main thread's
 * writer waits synchronously: so it gives up after RESTART_WAIT_MS and is tried
 * again on a later tick; should it keep failing, the main connection's fallback
 * checkpoint bounds the WAL.
 *
 * Messages to the parent: `{ checkpoint: { frames, checkpointed } }` after each
 * checkpoint that found frames, `{ failed: message }` once before exiting on an error.
 */
export interface WalCheckpointWorkerData {
  path: string;
  intervalMs: number;
  restartFrames: number;
}

export type WalCheckpointWorkerMessage = { checkpoint: { frames: number; checkpointed: number } } | { failed: string };

const { path, intervalMs, restartFrames } = workerData as WalCheckpointWorkerData;
// The longest a RESTART may hold up the request thread's writes.
const RESTART_WAIT_MS = 20;
// Frames a passive pass may leave behind and still count as caught up.
const CAUGHT_UP_FRAMES = 256;
const port = parentPort!;

let database: BetterSqlite3.Database | undefined;
let timer: NodeJS.Timeout | undefined;

function stop(): void {
  clearInterval(timer);
  database?.close();
  database = undefined;
  port.close();
}

try {
  database = new BetterSqlite3(path, { fileMustExist: true });
  database.pragma(`busy_timeout = ${RESTART_WAIT_MS}`);
  const passive = database.prepare('pragma wal_checkpoint(PASSIVE)');
  const restart = database.prepare('pragma wal_checkpoint(RESTART)');
  timer = setInterval(() => {
    try {
      let result = passive.get() as { busy: number; log: number; checkpointed: number };
      if (result.log >= restartFrames && result.log - result.checkpointed <= CAUGHT_UP_FRAMES) {
        result = restart.get() as { busy: number; log: number; checkpointed: number };
      }
      if (result.log > 0) port.postMessage({ checkpoint: { frames: result.log, checkpointed: result.checkpointed } } satisfies WalCheckpointWorkerMessage);
    } catch (error) {
      port.postMessage({ failed: error instanceof Error ? error.message : String(error) } satisfies WalCheckpointWorkerMessage);
      stop();
    }
  }, intervalMs);
  port.on('message', (message: unknown) => {
    if (message === 'stop') stop();
  });
} catch (error) {
  port.postMessage({ failed: error instanceof Error ? error.message : String(error) } satisfies WalCheckpointWorkerMessage);
  stop();
}
