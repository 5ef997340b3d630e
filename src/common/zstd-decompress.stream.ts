import { Decompress } from 'fzstd';
import { Transform, type TransformCallback } from 'node:stream';

/** A body that is not the zstd it claims to be: answered 400 (isFastifyClientError). */
export class ZstdBodyError extends Error {
  readonly statusCode = 400;
}

/**
 * The largest window a frame may ask for: RFC 9659 bounds the `zstd` content coding of HTTP at
 * 8 MiB (encoders may not exceed it, decoders need not accept more). fzstd allocates a frame's
 * window before decoding a byte of it, so a header declaring 2 GB would allocate 2 GB.
 */
export const ZSTD_MAX_WINDOW_BYTES = 8 * 1024 * 1024;

const FRAME_MAGIC = 0xfd2fb528;
const SKIPPABLE_MAGIC_MASK = 0xfffffff0;
const SKIPPABLE_MAGIC = 0x184d2a50;
const DICTIONARY_ID_BYTES = [0, 1, 2, 4] as const;

type Phase = 'magic' | 'descriptor' | 'header' | 'skippableSize' | 'skip' | 'blockHeader' | 'blockBody' | 'checksum';

/**
 * Walks the frames of a zstd stream by their headers (RFC 8878 §3.1) without decoding them, to
 * check each frame's window before fzstd allocates it: header bytes are gathered, block bodies
 * and skippable frames counted past. Throws ZstdBodyError for a frame past the window bound, a
 * dictionary (none is agreed on HTTP), a reserved block type or bytes that are not a frame.
 */
class ZstdFrameWalker {
  private phase: Phase = 'magic';
  private gathered: number[] = [];
  /** Bytes the current phase still needs. */
  private need = 4;
  private headerBytes = 0;
  private descriptor = 0;
  private lastBlock = false;
  private checksum = false;

  constructor(private readonly maxWindowBytes: number) {}

  /** True between frames: a stream may end here. */
  get atBoundary(): boolean {
    return this.phase === 'magic' && this.gathered.length === 0;
  }

  walk(chunk: Uint8Array): void {
    let at = 0;
    while (at < chunk.length) {
      if (this.phase === 'skip' || this.phase === 'blockBody') {
        const taken = Math.min(this.need, chunk.length - at);
        at += taken;
        this.need -= taken;
        if (this.need === 0) this.next();
        continue;
      }
      this.gathered.push(chunk[at++]!);
      if (this.gathered.length === this.need) this.next();
    }
  }

  private next(): void {
    const bytes = this.gathered;
    this.gathered = [];
    switch (this.phase) {
      case 'magic': {
        const magic = (bytes[0]! | (bytes[1]! << 8) | (bytes[2]! << 16) | (bytes[3]! << 24)) >>> 0;
        if (magic === FRAME_MAGIC) return this.enter('descriptor', 1);
        if (((magic & SKIPPABLE_MAGIC_MASK) >>> 0) === SKIPPABLE_MAGIC) return this.enter('skippableSize', 4);
        throw new ZstdBodyError('Request body is not valid zstd: no frame magic number');
      }
      case 'skippableSize':
        return this.enter('skip', (bytes[0]! | (bytes[1]! << 8) | (bytes[2]! << 16)) + bytes[3]! * 2 ** 24, 'magic', 4);
      case 'skip':
        return this.enter('magic', 4);
      case 'descriptor': {
        this.descriptor = bytes[0]!;
        const singleSegment = (this.descriptor >> 5) & 1;
        const contentSizeFlag = this.descriptor >> 6;
        if ((this.descriptor & 3) !== 0) throw new ZstdBodyError('Request body is not valid zstd for HTTP: a frame names a dictionary');
        if ((this.descriptor & 8) !== 0) throw new ZstdBodyError('Request body is not valid zstd: a reserved frame header bit is set');
        this.checksum = ((this.descriptor >> 2) & 1) === 1;
        const contentSizeBytes = contentSizeFlag === 0 ? singleSegment : 1 << contentSizeFlag;
        this.headerBytes = (singleSegment ? 0 : 1) + DICTIONARY_ID_BYTES[this.descriptor & 3] + contentSizeBytes;
        if (this.headerBytes === 0) return this.enter('blockHeader', 3);
        return this.enter('header', this.headerBytes);
      }
      case 'header': {
        const windowBytes = this.windowOf(bytes);
        if (windowBytes > this.maxWindowBytes) {
          throw new ZstdBodyError(`Request body's zstd frame asks for a ${windowBytes}-byte window; at most ${this.maxWindowBytes} (RFC 9659) are allowed`);
        }
        return this.enter('blockHeader', 3);
      }
      case 'blockHeader': {
        const header = bytes[0]! | (bytes[1]! << 8) | (bytes[2]! << 16);
        this.lastBlock = (header & 1) === 1;
        const type = (header >> 1) & 3;
        if (type === 3) throw new ZstdBodyError('Request body is not valid zstd: a reserved block type');
        const size = type === 1 ? 1 : header >>> 3;
        if (size === 0) return this.afterBlock();
        return this.enter('blockBody', size);
      }
      case 'blockBody':
        return this.afterBlock();
      case 'checksum':
        return this.enter('magic', 4);
    }
  }

  private afterBlock(): void {
    if (!this.lastBlock) return this.enter('blockHeader', 3);
    if (this.checksum) return this.enter('checksum', 4);
    this.enter('magic', 4);
  }

  private enter(phase: Phase, need: number, after?: Phase, afterNeed?: number): void {
    if (need === 0 && after !== undefined) return this.enter(after, afterNeed!);
    this.phase = phase;
    this.need = need;
  }

  /** The window a frame header asks for (its content size when it is a single segment). */
  private windowOf(header: number[]): number {
    const singleSegment = (this.descriptor >> 5) & 1;
    if (!singleSegment) {
      const descriptor = header[0]!;
      const base = 2 ** (10 + (descriptor >> 3));
      return base + (base / 8) * (descriptor & 7);
    }
    const contentSizeFlag = this.descriptor >> 6;
    const bytes = header.slice(this.headerBytes - (contentSizeFlag === 0 ? 1 : 1 << contentSizeFlag));
    let size = 0;
    for (let index = bytes.length - 1; index >= 0; index--) size = size * 256 + bytes[index]!;
    return contentSizeFlag === 1 ? size + 256 : size;
  }
}

/** More decompressed bytes than the body limit: answered 413, as Fastify answers a body over it. */
export class ZstdBodyTooLargeError extends Error {
  readonly statusCode = 413;
}

/**
 * `Content-Encoding: zstd` undone as the body streams (fzstd, pure JavaScript: Node 20 has no
 * zstd in zlib). fzstd yields each block as it is decoded (at most 128 KiB), but one pushed chunk
 * may hold thousands of blocks (an RLE block of 4 bytes expands to 128 KiB), so the output is
 * counted here and the stream fails with ZstdBodyTooLargeError as soon as it passes
 * `maxOutputBytes`: a decompression bomb is refused while it expands, holding at most the limit
 * and one block. Each frame's window is checked before fzstd allocates it (ZstdFrameWalker).
 * Invalid data ends the stream with ZstdBodyError.
 */
export function createZstdDecompress(maxOutputBytes: number, maxWindowBytes = ZSTD_MAX_WINDOW_BYTES): Transform {
  const walker = new ZstdFrameWalker(maxWindowBytes);
  let output = 0;
  /** Set below: fzstd's handler pushes into the stream that feeds it. */
  let push: (data: Buffer) => void = () => undefined;
  const decompress = new Decompress((data) => {
    output += data.length;
    if (output > maxOutputBytes) throw new ZstdBodyTooLargeError('Request body is too large');
    if (data.length > 0) push(Buffer.from(data.buffer, data.byteOffset, data.byteLength));
  });
  const fail = (error: unknown): Error =>
    error instanceof ZstdBodyError || error instanceof ZstdBodyTooLargeError ? error : new ZstdBodyError(`Request body is not valid zstd: ${error instanceof Error ? error.message : String(error)}`);
  const stream = new Transform({
    transform(chunk: Buffer, _encoding, callback: TransformCallback) {
      try {
        walker.walk(chunk);
        decompress.push(chunk);
        callback();
      } catch (error) {
        callback(fail(error));
      }
    },
    flush(callback: TransformCallback) {
      try {
        if (!walker.atBoundary) throw new ZstdBodyError('Request body is not valid zstd: it ends inside a frame');
        decompress.push(new Uint8Array(0), true);
        callback();
      } catch (error) {
        callback(fail(error));
      }
    },
  });
  push = (data) => stream.push(data);
  return stream;
}
