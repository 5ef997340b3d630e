import { Injectable } from '@nestjs/common';
import { withoutTables, type Tx } from '../storage/database.js';

/** Deletes every row a module keeps about one user, inside the erasure transaction. */
export type UserEraser = (trx: Tx, userId: string) => Promise<number>;

/**
 * Every module that stores user-identifying rows registers an eraser here
 * (the ingest log, analytics, delivery dead letters). DELETE /analytics/user/:id
 * runs them all in one transaction before answering 204.
 */
@Injectable()
export class UserErasure {
  private readonly erasers = new Map<string, UserEraser>();
  register(store: string, eraser: UserEraser): void {
    this.erasers.set(store, eraser);
  }
  /** Rows deleted per store. */
  async eraseAll<Tables>(trx: Tx<Tables>, userId: string): Promise<Record<string, number>> {
    const deleted: Record<string, number> = {};
    for (const [store, eraser] of this.erasers) deleted[store] = await eraser(withoutTables(trx), userId);
    return deleted;
  }
}
