/*
 * libFuzzer target: a hostile peer of a renderer ring (transport.md §C). The
 * input picks the ring's layout (offsets and sizes inside a shared-memory
 * blob, checked by the renderer) and then plays the driver's side: bytes
 * written into the ring buffer, raw head, tail and status words, wakes, and
 * the context-path ring commands (notify, wait for a seqno, write the extra
 * region), while the renderer's real ring thread consumes what it finds
 * (the input language: fuzz_ring_play.h; seeds: test_ring_seeds).
 * Any input may make the context fatal; none may crash, hang or leak.
 */
#include <stdlib.h>

#include "fuzz_ring_play.h"

#include "fuzz_host.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
   if (!fuzz_ring_play(data, size, NULL, NULL))
      abort();
   return 0;
}
