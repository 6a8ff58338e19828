/* SPDX-License-Identifier: Apache-2.0
 * A persistent thread pool tuned for low dispatch latency: n-1 workers
 * plus the calling thread.  A job is published by bumping a generation
 * counter; workers spin on it for a short while (ops of one model run come
 * back to back, microseconds apart) and only then sleep on a condition
 * variable.  Work is handed out in chunks through an atomic counter, so a
 * late or preempted worker does not hold the others up. */
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <time.h>
#include <unistd.h>

#include <glib.h>

#include "internal.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define CPU_RELAX() _mm_pause ()
#elif defined(__aarch64__)
#define CPU_RELAX() __asm__ __volatile__("yield")
#else
#define CPU_RELAX() ((void)0)
#endif

/* How long an idle worker spins before sleeping. */
#define SPIN_NS 100000

typedef struct {
  MaceRangeFunc fn;
  void *arg;
  int64_t n, chunk, n_chunks;
} Job;

struct MaceThreadPool {
  int n_threads; /* workers + caller */
  pthread_t *threads;
  int n_started;

  /* Jobs alternate between two slots, so a worker that wakes up late
   * never sees the slot of the job being posted.  A chunk is claimed by a
   * CAS on `ticket` = generation << 32 | next chunk; a claim can only
   * succeed while its generation is the current job, so late workers
   * never run a stale chunk, and the caller only waits for the chunks
   * themselves, not for every worker to check in (a descheduled worker
   * cannot hold a job up). */
  Job slot[2];
  atomic_uint_fast64_t ticket;
  atomic_int_fast64_t done;

  atomic_uint gen;
  atomic_int sleepers;
  atomic_bool stop;
  atomic_flag busy; /* a dispatch is in progress */
  pthread_mutex_t lock;
  pthread_cond_t cond;
};

static inline uint64_t
now_ns (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Runs chunks of generation g until none is left. */
static void
run_chunks (MaceThreadPool *p, unsigned g)
{
  const Job *j = &p->slot[g & 1];
  MaceRangeFunc fn = j->fn;
  void *arg = j->arg;
  int64_t n = j->n, chunk = j->chunk, n_chunks = j->n_chunks;
  uint64_t v = atomic_load_explicit (&p->ticket, memory_order_acquire);
  for (;;) {
    if ((uint32_t)(v >> 32) != (uint32_t)g)
      return;
    int64_t c = (int64_t)(v & 0xffffffffu);
    if (c >= n_chunks)
      return;
    if (!atomic_compare_exchange_weak_explicit (
            &p->ticket, &v, v + 1, memory_order_acq_rel, memory_order_acquire))
      continue;
    int64_t b = c * chunk;
    int64_t e = b + chunk < n ? b + chunk : n;
    fn (arg, b, e);
    atomic_fetch_add_explicit (&p->done, 1, memory_order_release);
    v = atomic_load_explicit (&p->ticket, memory_order_acquire);
  }
}

static void *
worker_main (void *data)
{
  MaceThreadPool *p = data;
  /* Generation 0 is the pool's creation; a job may be posted before this
   * thread first looks. */
  unsigned seen = 0;
  for (;;) {
    unsigned g = atomic_load_explicit (&p->gen, memory_order_acquire);
    if (g == seen) {
      /* Spin, then sleep. */
      uint64_t t0 = now_ns ();
      int i = 0;
      while ((g = atomic_load_explicit (&p->gen, memory_order_acquire)) == seen
             && !atomic_load_explicit (&p->stop, memory_order_relaxed)) {
        CPU_RELAX ();
        if (++i == 256) {
          i = 0;
          if (now_ns () - t0 > SPIN_NS)
            break;
        }
      }
      if (g == seen) {
        pthread_mutex_lock (&p->lock);
        atomic_fetch_add (&p->sleepers, 1);
        while ((g = atomic_load (&p->gen)) == seen && !atomic_load (&p->stop))
          pthread_cond_wait (&p->cond, &p->lock);
        atomic_fetch_sub (&p->sleepers, 1);
        pthread_mutex_unlock (&p->lock);
      }
    }
    if (atomic_load (&p->stop))
      break;
    seen = g;
    run_chunks (p, g);
  }
  return NULL;
}

MaceThreadPool *
mace_threadpool_new (int n_threads)
{
  if (n_threads <= 0) {
    long c = sysconf (_SC_NPROCESSORS_ONLN);
    n_threads = c > 0 ? (int)c : 1;
  }
  if (n_threads > 256)
    n_threads = 256;
  MaceThreadPool *p = g_new0 (MaceThreadPool, 1);
  p->n_threads = n_threads;
  atomic_init (&p->gen, 0);
  atomic_init (&p->sleepers, 0);
  atomic_init (&p->stop, false);
  atomic_init (&p->ticket, 0);
  atomic_init (&p->done, 0);
  atomic_flag_clear (&p->busy);
  pthread_mutex_init (&p->lock, NULL);
  pthread_cond_init (&p->cond, NULL);
  if (n_threads > 1) {
    p->threads = g_new0 (pthread_t, n_threads - 1);
    for (int i = 0; i < n_threads - 1; i++) {
      if (pthread_create (&p->threads[i], NULL, worker_main, p) != 0)
        break;
      p->n_started++;
    }
    /* Fewer threads than asked is still a working pool. */
    p->n_threads = p->n_started + 1;
  }
  return p;
}

void
mace_threadpool_free (MaceThreadPool *p)
{
  if (!p)
    return;
  pthread_mutex_lock (&p->lock);
  atomic_store (&p->stop, true);
  atomic_fetch_add (&p->gen, 1);
  pthread_cond_broadcast (&p->cond);
  pthread_mutex_unlock (&p->lock);
  for (int i = 0; i < p->n_started; i++)
    pthread_join (p->threads[i], NULL);
  pthread_mutex_destroy (&p->lock);
  pthread_cond_destroy (&p->cond);
  g_free (p->threads);
  g_free (p);
}

int
mace_threadpool_size (const MaceThreadPool *p)
{
  return p ? p->n_threads : 1;
}

void
mace_parallel_for (MaceThreadPool *p, int64_t n, MaceRangeFunc fn, void *arg)
{
  if (n <= 0)
    return;
  if (!p || p->n_threads <= 1 || n == 1) {
    fn (arg, 0, n);
    return;
  }
  /* A second dispatcher (another thread, or fn calling back in) runs its
   * range inline rather than waiting. */
  if (atomic_flag_test_and_set_explicit (&p->busy, memory_order_acquire)) {
    fn (arg, 0, n);
    return;
  }
  int t = p->n_threads;
  /* A few chunks per thread balances uneven progress without paying an
   * atomic per element. */
  int64_t chunks = n < (int64_t)t * 4 ? n : (int64_t)t * 4;
  unsigned g = atomic_load_explicit (&p->gen, memory_order_relaxed) + 1;
  Job *j = &p->slot[g & 1];
  j->fn = fn;
  j->arg = arg;
  j->n = n;
  j->chunk = (n + chunks - 1) / chunks;
  j->n_chunks = (n + j->chunk - 1) / j->chunk;
  atomic_store_explicit (&p->done, 0, memory_order_relaxed);
  atomic_store_explicit (&p->ticket, (uint64_t)(uint32_t)g << 32,
                         memory_order_release);
  atomic_store_explicit (&p->gen, g, memory_order_seq_cst);
  if (atomic_load_explicit (&p->sleepers, memory_order_seq_cst) > 0) {
    pthread_mutex_lock (&p->lock);
    pthread_cond_broadcast (&p->cond);
    pthread_mutex_unlock (&p->lock);
  }
  run_chunks (p, g);
  /* Chunks still running on workers: spin briefly, then yield the core
   * (it may be the one a preempted worker needs). */
  int spins = 0;
  while (atomic_load_explicit (&p->done, memory_order_acquire) < j->n_chunks) {
    if (++spins < 4096)
      CPU_RELAX ();
    else
      sched_yield ();
  }
  atomic_flag_clear_explicit (&p->busy, memory_order_release);
}
