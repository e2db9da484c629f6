/*
 * Minimal unit-test harness: TEST(name) defines a test, CHECK* record
 * failures with file:line, RUN_TESTS(a, b, ...) runs them and sets the exit
 * status (meson counts the executable as one test).
 */
#ifndef HARNESS_H
#define HARNESS_H

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int harness_failures;

#define TEST(name) static void test_##name(void)

#define CHECK(cond)                                                                      \
   do {                                                                                  \
      if (!(cond)) {                                                                     \
         fprintf(stderr, "%s:%d: CHECK(%s) failed\n", __FILE__, __LINE__, #cond);        \
         harness_failures++;                                                             \
      }                                                                                  \
   } while (0)

#define CHECK_EQ(a, b)                                                                   \
   do {                                                                                  \
      const long long harness_a = (long long)(a), harness_b = (long long)(b);            \
      if (harness_a != harness_b) {                                                      \
         fprintf(stderr, "%s:%d: CHECK_EQ(%s, %s) failed: %lld != %lld\n", __FILE__,     \
                 __LINE__, #a, #b, harness_a, harness_b);                                \
         harness_failures++;                                                             \
      }                                                                                  \
   } while (0)

#define CHECK_MEM(a, b, n)                                                               \
   do {                                                                                  \
      const unsigned char *harness_pa = (const void *)(a), *harness_pb = (const void *)(b); \
      for (size_t harness_i = 0; harness_i < (size_t)(n); harness_i++) {                 \
         if (harness_pa[harness_i] != harness_pb[harness_i]) {                           \
            fprintf(stderr, "%s:%d: CHECK_MEM(%s, %s): byte %zu differs: %02x != %02x\n", \
                    __FILE__, __LINE__, #a, #b, harness_i, harness_pa[harness_i],        \
                    harness_pb[harness_i]);                                              \
            harness_failures++;                                                          \
            break;                                                                       \
         }                                                                               \
      }                                                                                  \
   } while (0)

#define RUN_TESTS(...)                                                                   \
   int main(void)                                                                        \
   {                                                                                     \
      void (*harness_tests[])(void) = { HARNESS_PREFIX_ALL(__VA_ARGS__) };               \
      const char *harness_names = #__VA_ARGS__;                                          \
      (void)harness_names;                                                               \
      for (size_t i = 0; i < sizeof(harness_tests) / sizeof(harness_tests[0]); i++)      \
         harness_tests[i]();                                                             \
      fprintf(stderr, "%s: %d failure(s)\n", harness_failures ? "FAIL" : "PASS",         \
              harness_failures);                                                         \
      return harness_failures ? 1 : 0;                                                   \
   }

/* expands RUN_TESTS(a, b, c) to test_a, test_b, test_c (up to 64 names) */
#define HARNESS_PREFIX_ALL(...) HARNESS_FE(HARNESS_PFX, __VA_ARGS__)
#define HARNESS_PFX(x) test_##x,
#define HARNESS_FE(m, ...) HARNESS_FE_(HARNESS_NARG(__VA_ARGS__), m, __VA_ARGS__)
#define HARNESS_FE_(n, m, ...) HARNESS_FE__(n, m, __VA_ARGS__)
#define HARNESS_FE__(n, m, ...) HARNESS_FE_##n(m, __VA_ARGS__)
#define HARNESS_NARG(...) HARNESS_NARG_(__VA_ARGS__, HARNESS_RSEQ())
#define HARNESS_NARG_(...) HARNESS_ARG_N(__VA_ARGS__)
#define HARNESS_ARG_N(_1, _2, _3, _4, _5, _6, _7, _8, _9, _10, _11, _12, _13, _14, _15, _16, \
                      _17, _18, _19, _20, _21, _22, _23, _24, _25, _26, _27, _28, _29, _30, \
                      _31, _32, N, ...)                                                    \
   N
#define HARNESS_RSEQ()                                                                   \
   32, 31, 30, 29, 28, 27, 26, 25, 24, 23, 22, 21, 20, 19, 18, 17, 16, 15, 14, 13, 12, 11, \
      10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0
#define HARNESS_FE_1(m, x) m(x)
#define HARNESS_FE_2(m, x, ...) m(x) HARNESS_FE_1(m, __VA_ARGS__)
#define HARNESS_FE_3(m, x, ...) m(x) HARNESS_FE_2(m, __VA_ARGS__)
#define HARNESS_FE_4(m, x, ...) m(x) HARNESS_FE_3(m, __VA_ARGS__)
#define HARNESS_FE_5(m, x, ...) m(x) HARNESS_FE_4(m, __VA_ARGS__)
#define HARNESS_FE_6(m, x, ...) m(x) HARNESS_FE_5(m, __VA_ARGS__)
#define HARNESS_FE_7(m, x, ...) m(x) HARNESS_FE_6(m, __VA_ARGS__)
#define HARNESS_FE_8(m, x, ...) m(x) HARNESS_FE_7(m, __VA_ARGS__)
#define HARNESS_FE_9(m, x, ...) m(x) HARNESS_FE_8(m, __VA_ARGS__)
#define HARNESS_FE_10(m, x, ...) m(x) HARNESS_FE_9(m, __VA_ARGS__)
#define HARNESS_FE_11(m, x, ...) m(x) HARNESS_FE_10(m, __VA_ARGS__)
#define HARNESS_FE_12(m, x, ...) m(x) HARNESS_FE_11(m, __VA_ARGS__)
#define HARNESS_FE_13(m, x, ...) m(x) HARNESS_FE_12(m, __VA_ARGS__)
#define HARNESS_FE_14(m, x, ...) m(x) HARNESS_FE_13(m, __VA_ARGS__)
#define HARNESS_FE_15(m, x, ...) m(x) HARNESS_FE_14(m, __VA_ARGS__)
#define HARNESS_FE_16(m, x, ...) m(x) HARNESS_FE_15(m, __VA_ARGS__)
#define HARNESS_FE_17(m, x, ...) m(x) HARNESS_FE_16(m, __VA_ARGS__)
#define HARNESS_FE_18(m, x, ...) m(x) HARNESS_FE_17(m, __VA_ARGS__)
#define HARNESS_FE_19(m, x, ...) m(x) HARNESS_FE_18(m, __VA_ARGS__)
#define HARNESS_FE_20(m, x, ...) m(x) HARNESS_FE_19(m, __VA_ARGS__)
#define HARNESS_FE_21(m, x, ...) m(x) HARNESS_FE_20(m, __VA_ARGS__)
#define HARNESS_FE_22(m, x, ...) m(x) HARNESS_FE_21(m, __VA_ARGS__)
#define HARNESS_FE_23(m, x, ...) m(x) HARNESS_FE_22(m, __VA_ARGS__)
#define HARNESS_FE_24(m, x, ...) m(x) HARNESS_FE_23(m, __VA_ARGS__)
#define HARNESS_FE_25(m, x, ...) m(x) HARNESS_FE_24(m, __VA_ARGS__)
#define HARNESS_FE_26(m, x, ...) m(x) HARNESS_FE_25(m, __VA_ARGS__)
#define HARNESS_FE_27(m, x, ...) m(x) HARNESS_FE_26(m, __VA_ARGS__)
#define HARNESS_FE_28(m, x, ...) m(x) HARNESS_FE_27(m, __VA_ARGS__)
#define HARNESS_FE_29(m, x, ...) m(x) HARNESS_FE_28(m, __VA_ARGS__)
#define HARNESS_FE_30(m, x, ...) m(x) HARNESS_FE_29(m, __VA_ARGS__)
#define HARNESS_FE_31(m, x, ...) m(x) HARNESS_FE_30(m, __VA_ARGS__)
#define HARNESS_FE_32(m, x, ...) m(x) HARNESS_FE_31(m, __VA_ARGS__)

#endif
