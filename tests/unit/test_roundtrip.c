/*
 * Round trip for every command the generator emits: randomized valid calls
 * encoded by the driver encoders, decoded by the renderer decoders and
 * compared field by field; then replies filled by the "host", encoded by the
 * renderer and decoded by the driver, compared again. The command table and
 * all per-struct fill/compare code are generated (vp_roundtrip_gen.c).
 */
#include "roundtrip.h"

#define ITERATIONS 24

int
main(int argc, char **argv)
{
   struct rt r = { .rng = 0x9E3779B97F4A7C15ull };
   if (argc > 1)
      r.rng = strtoull(argv[1], NULL, 0) | 1;
   vu_arena_init(&r.arena, 64u << 20);
   r.corpus_dir = getenv("RT_CORPUS"); /* seeds for the fuzzer */

   unsigned failed_commands = 0;
   for (unsigned i = 0; i < rt_command_count; i++) {
      r.cmd = rt_commands[i].name;
      if (getenv("RT_TRACE"))
         fprintf(stderr, "%s\n", r.cmd);
      const unsigned before = r.failures;
      for (unsigned it = 0; it < ITERATIONS; it++) {
         rt_commands[i].run(&r);
         rt_free_all(&r);
      }
      if (r.failures != before)
         failed_commands++;
   }
   vu_arena_fini(&r.arena);

   printf("round trip: %u commands covered, generator emitted %u (protocol table: %u)\n",
          rt_command_count, rt_command_count, vp_carried_command_count);
   printf("round trip: %u checks, %u failures in %u commands\n", r.checks, r.failures,
          failed_commands);
   if (rt_command_count != vp_carried_command_count)
      return 1;
   return r.failures ? 1 : 0;
}
