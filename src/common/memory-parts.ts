import { Injectable } from '@nestjs/common';

/**
 * Sizes of memory-budget parts that the module owning each part measures (src/config/memory-budget.ts),
 * for /metrics (`vigil_memory_part_bytes{part}`, MemoryMetrics). A reader answers the part's bytes
 * now, or undefined when it cannot tell (the part is then left out of the scrape).
 */
@Injectable()
export class MemoryParts {
  private readonly readers = new Map<string, () => number | undefined>();

  /** Registers how to read `part`'s bytes; a second registration of the same part replaces the first. */
  register(part: string, bytes: () => number | undefined): void {
    this.readers.set(part, bytes);
  }

  /** Each registered part's bytes now, leaving out those that cannot tell. */
  sizes(): Array<[part: string, bytes: number]> {
    const sizes: Array<[string, number]> = [];
    for (const [part, read] of this.readers) {
      const bytes = read();
      if (bytes !== undefined) sizes.push([part, bytes]);
    }
    return sizes;
  }
}
