import assert from 'node:assert/strict';
import { test } from 'node:test';
import zstd from '@bokuweb/zstd-wasm';
import { createZstdDecompress, ZstdBodyTooLargeError } from './zstd-decompress.stream.js';

/** Feeds `body` in one chunk and reads what the stream yields until it ends or fails. */
async function run(body: Uint8Array, maxOutputBytes: number): Promise<{ yielded: number; error?: Error; text: string }> {
  const stream = createZstdDecompress(maxOutputBytes);
  const chunks: Buffer[] = [];
  let yielded = 0;
  return new Promise((resolve) => {
    stream.on('data', (chunk: Buffer) => {
      yielded += chunk.length;
      chunks.push(chunk);
    });
    stream.on('end', () => resolve({ yielded, text: Buffer.concat(chunks).toString('utf8') }));
    stream.on('error', (error) => resolve({ yielded, error, text: '' }));
    stream.end(body);
  });
}

test('zstd decompression stops at the output limit inside one pushed chunk (a bomb never expands past it)', async () => {
  await zstd.init();
  const bomb = zstd.compress(Buffer.alloc(200 * 1024 * 1024), 19);
  const limit = 1024 * 1024;
  const result = await run(bomb, limit);
  assert.ok(result.error instanceof ZstdBodyTooLargeError);
  assert.ok(result.yielded <= limit, `${result.yielded} bytes passed on`);
});

test('zstd decompression yields the body exactly, across frames, skippable frames and checksums', async () => {
  await zstd.init();
  const skippable = Buffer.from([0x50, 0x2a, 0x4d, 0x18, 3, 0, 0, 0, 1, 2, 3]);
  const body = Buffer.concat([zstd.compress(Buffer.from('first '), 3), skippable, zstd.compress(Buffer.from('second'.repeat(1000)), 19)]);
  const result = await run(body, 1024 * 1024);
  assert.equal(result.error, undefined);
  assert.equal(result.text, `first ${'second'.repeat(1000)}`);
});
