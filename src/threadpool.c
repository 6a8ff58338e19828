/* SPDX-License-Identifier: Apache-2.0
 * Placeholder serial pool; replaced by the real pool. */
#include <glib.h>
#include "internal.h"
struct MaceThreadPool { int n; };
MaceThreadPool *mace_threadpool_new (int n) { MaceThreadPool *p = g_new0 (MaceThreadPool, 1); p->n = n > 0 ? n : 1; return p; }
void mace_threadpool_free (MaceThreadPool *p) { g_free (p); }
int mace_threadpool_size (const MaceThreadPool *p) { return p ? p->n : 1; }
void mace_parallel_for (MaceThreadPool *p, int64_t n, MaceRangeFunc fn, void *arg) { (void) p; if (n > 0) fn (arg, 0, n); }
