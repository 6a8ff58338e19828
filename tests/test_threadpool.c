/* SPDX-License-Identifier: Apache-2.0
 * Thread pool: every index visited exactly once for many n and pool sizes,
 * several pools alive at once, and the dispatch overhead (printed only). */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "harness.h"

typedef struct {
  atomic_int *hits;
  atomic_long calls;
} Visit;

static void
visit (void *arg, int64_t b, int64_t e)
{
  Visit *v = arg;
  atomic_fetch_add (&v->calls, 1);
  for (int64_t i = b; i < e; i++)
    atomic_fetch_add (&v->hits[i], 1);
}

static void
noop (void *arg, int64_t b, int64_t e)
{
  (void)arg;
  (void)b;
  (void)e;
}

static volatile float sink;

/* About a microsecond of work per index. */
static void
busy (void *arg, int64_t b, int64_t e)
{
  (void)arg;
  float s = 0;
  for (int64_t i = b; i < e; i++)
    for (int k = 0; k < 1000; k++)
      s += (float)k * 0.5f;
  sink = s;
}

static double
now_us (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e6 + ts.tv_nsec * 1e-3;
}

static void
check_pool (MaceThreadPool *pool, const char *what)
{
  static const int64_t ns[] = { 0, 1, 2, 3, 7, 8, 31, 100, 1001, 65537 };
  for (size_t k = 0; k < sizeof ns / sizeof ns[0]; k++) {
    int64_t n = ns[k];
    Visit v = { calloc ((size_t)n + 1, sizeof (atomic_int)), 0 };
    for (int rep = 0; rep < 3; rep++)
      mace_parallel_for (pool, n, visit, &v);
    for (int64_t i = 0; i < n; i++)
      if (atomic_load (&v.hits[i]) != 3) {
        th_fail (what, "n=%lld: index %lld visited %d times, want 3",
                 (long long)n, (long long)i, atomic_load (&v.hits[i]));
        break;
      }
    free (v.hits);
  }
}

int
main (int argc, char **argv)
{
  th_init (argc, argv);
  check_pool (NULL, "null pool");
  for (int t = 1; t <= 5; t++) {
    MaceThreadPool *pool = mace_threadpool_new (t);
    char what[64];
    snprintf (what, sizeof what, "pool of %d", t);
    if (mace_threadpool_size (pool) != t)
      th_fail (what, "size %d", mace_threadpool_size (pool));
    check_pool (pool, what);
    mace_threadpool_free (pool);
  }
  /* Two pools at once, used alternately. */
  MaceThreadPool *a = mace_threadpool_new (2), *b = mace_threadpool_new (3);
  for (int i = 0; i < 5; i++) {
    check_pool (a, "pool a");
    check_pool (b, "pool b");
  }
  mace_threadpool_free (b);
  /* Sleeping workers wake up again. */
  struct timespec ts = { 0, 5000000 };
  nanosleep (&ts, NULL);
  check_pool (a, "pool a after sleep");
  mace_threadpool_free (a);

  /* Dispatch overhead, back-to-back (spinning workers) and after idle. */
  MaceThreadPool *p = mace_threadpool_new (2);
  for (int i = 0; i < 1000; i++)
    mace_parallel_for (p, 2, noop, NULL);
  int reps = 20000;
  double t0 = now_us ();
  for (int i = 0; i < reps; i++)
    mace_parallel_for (p, 2, noop, NULL);
  double hot = (now_us () - t0) / reps;
  double cold = 0;
  for (int i = 0; i < 20; i++) {
    struct timespec idle = { 0, 2000000 };
    nanosleep (&idle, NULL);
    double t1 = now_us ();
    mace_parallel_for (p, 2, noop, NULL);
    cold += now_us () - t1;
  }
  /* Two ~1 us tasks: serial vs the pool; the excess over half the serial
   * time is what a dispatch costs when both threads really work. */
  double t_ser = now_us ();
  for (int i = 0; i < 2000; i++)
    busy (NULL, 0, 2);
  t_ser = (now_us () - t_ser) / 2000;
  double tp = now_us ();
  for (int i = 0; i < 2000; i++)
    mace_parallel_for (p, 2, busy, NULL);
  tp = (now_us () - tp) / 2000;
  mace_threadpool_free (p);
  printf ("dispatch overhead, 2 threads: %.2f us back-to-back (no work), "
          "%.1f us after 2 ms idle; 2 tasks of %.2f us: %.2f us serial, "
          "%.2f us on the pool\n",
          hot, cold / 20, t_ser / 2, t_ser, tp);
  return th_finish ();
}
