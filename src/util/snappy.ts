/**
 * @module Snappy block compression (Loki's push encoding), with every output copied into a Buffer
 * that V8 accounts for. The codec's own output buffers are external memory the GC does not see, so
 * garbage ones piled up in the codec's allocator: hundreds of MB of RSS before a collection freed
 * them (bench, agent phase: 600 MiB for 256 MiB of logs). Its async variants, which run on the libuv
 * pool, grow RSS the same way whatever the options, so these are synchronous.
 */
import snappy from 'snappy';

export function snappyCompress(raw: Uint8Array): Buffer {
  return snappy.compressSync(raw, { copyOutputData: true });
}

export function snappyUncompress(packed: Uint8Array): Buffer {
  return snappy.uncompressSync(packed, { asBuffer: true, copyOutputData: true }) as Buffer;
}
