/* SPDX-License-Identifier: Apache-2.0
 * Local work-size selection.  With tuning on, each kernel+shape is timed
 * with a few candidate local sizes (and the driver's own choice) and the
 * fastest is stored in the tuning cache; otherwise a stored entry is used
 * when there is one, else a default: the driver's choice on CPUs, a
 * size from the global size on GPUs (default_lws). */
#include <stdio.h>
#include <string.h>

#include <glib.h>

#include "cl/tuner.h"
#include "cl/tuning_cache.h"

struct MaceClTuner {
  MaceClDevice *dev;
  int tune;
  MaceClTuningCache *cache; /* NULL: tuned sizes last for this session */
  GHashTable *entries;      /* key -> size_t[3] (lws; zeros = driver) */
};

MaceClTuner *
mace_cl_tuner_new (MaceClDevice *dev, const char *path, int tune)
{
  MaceClTuner *t = g_new0 (MaceClTuner, 1);
  t->dev = dev;
  t->tune = tune;
  MaceError err = { 0 };
  t->cache = mace_cl_tuning_cache_open (path, NULL, dev->device, &err);
  if (!t->cache)
    mace_log (MACE_LOG_WARNING, "OpenCL: no tuning cache: %s", err.message);
  t->entries = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  return t;
}

static void
make_key (const MaceClLaunch *l, char *key, size_t len)
{
  snprintf (key, len, "%s/%zux%zux%zu", l->name, l->gws[0],
            l->dim > 1 ? l->gws[1] : 1, l->dim > 2 ? l->gws[2] : 1);
}

/* Microseconds per launch of l with local size lws (NULL: the driver's),
 * the best of 3 batches of 8 back-to-back launches after one warm-up:
 * back to back, as the kernels run in a graph, so that the launch cost a
 * local size cannot change is shared out and does not hide the kernel's
 * own time. */
static double
time_launch (MaceClTuner *t, MaceClLaunch *l, const size_t *lws)
{
  double best = -1;
  for (int rep = 0; rep < 4; rep++) {
    int n = rep == 0 ? 1 : 8;
    gint64 t0 = g_get_monotonic_time ();
    for (int i = 0; i < n; i++)
      if (clEnqueueNDRangeKernel (t->dev->queue, l->kernel, l->dim, NULL,
                                  l->gws, lws, 0, NULL, NULL)
          != CL_SUCCESS)
        return -1;
    if (clFinish (t->dev->queue) != CL_SUCCESS)
      return -1;
    double us = (double)(g_get_monotonic_time () - t0) / n;
    if (rep > 0 && (best < 0 || us < best)) /* first run warms up */
      best = us;
  }
  return best;
}

static bool
fits (MaceClTuner *t, const MaceClLaunch *l, const size_t *lws)
{
  size_t total = 1;
  for (cl_uint d = 0; d < l->dim; d++) {
    if (lws[d] == 0 || l->gws[d] % lws[d] != 0
        || lws[d] > t->dev->max_work_item_sizes[d])
      return false;
    total *= lws[d];
  }
  return total <= t->dev->max_work_group_size;
}

static void default_lws (MaceClTuner *t, MaceClLaunch *l);

/* Times the default local size, the driver's and a list of candidates;
 * keeps a candidate only when it beats the default by more than 3%, so a
 * tuned file is never slower than none by the tuner's own measure. */
static void
tune_launch (MaceClTuner *t, MaceClLaunch *l, size_t *best_lws)
{
  static const size_t c1[] = { 8, 16, 32, 64, 128, 256 };
  static const size_t c2[][2] = { { 4, 4 },   { 8, 8 },  { 16, 4 }, { 4, 16 },
                                  { 16, 16 }, { 32, 4 }, { 8, 32 }, { 32, 8 } };
  static const size_t c3[][3]
      = { { 4, 4, 1 }, { 8, 8, 1 },  { 16, 4, 1 }, { 4, 4, 4 }, { 16, 16, 1 },
          { 8, 4, 2 }, { 32, 1, 1 }, { 64, 1, 1 }, { 32, 2, 1 } };
  default_lws (t, l);
  memcpy (best_lws, l->lws, 3 * sizeof (size_t));
  double base = time_launch (t, l, l->lws[0] ? l->lws : NULL);
  double best = base;
  size_t lws[3];
  int n = l->dim == 1   ? (int)G_N_ELEMENTS (c1)
          : l->dim == 2 ? (int)G_N_ELEMENTS (c2)
                        : (int)G_N_ELEMENTS (c3);
  for (int i = -1; i < n; i++) {
    double us;
    if (i < 0) {
      us = time_launch (t, l, NULL);
      memset (lws, 0, sizeof lws);
    } else {
      lws[0] = l->dim == 1 ? c1[i] : l->dim == 2 ? c2[i][0] : c3[i][0];
      lws[1] = l->dim == 2 ? c2[i][1] : l->dim == 3 ? c3[i][1] : 1;
      lws[2] = l->dim == 3 ? c3[i][2] : 1;
      if (!fits (t, l, lws))
        continue;
      us = time_launch (t, l, lws);
    }
    if (us >= 0 && (best < 0 || us < best) && (base < 0 || us < base * 0.97)) {
      best = us;
      memcpy (best_lws, lws, sizeof lws);
    }
  }
}

/* Largest power of two <= cap dividing n (1 at least). */
static size_t
pow2_divisor (size_t n, size_t cap)
{
  size_t d = 1;
  while (d * 2 <= cap && n % (d * 2) == 0)
    d *= 2;
  return d;
}

/* The local size used without a tuned entry.  On CPUs the driver's choice
 * (PoCL picks well for its own threads).  On GPUs a work-group of about
 * `target` work-items (MACE_CL_LWS=N sets it; MACE_CL_LWS=driver leaves
 * the choice to the driver), x fastest: as many x work-items as divide
 * gws[0] (coalesced rows), then y, then z; never fewer work-groups than
 * the device has compute units when the launch is big enough for that. */
static void
default_lws (MaceClTuner *t, MaceClLaunch *l)
{
  memset (l->lws, 0, sizeof l->lws);
  const char *e = g_getenv ("MACE_CL_LWS");
  if (!(t->dev->type & CL_DEVICE_TYPE_GPU) || (e && strcmp (e, "driver") == 0))
    return;
  size_t target = 64;
  if (e && g_ascii_strtoull (e, NULL, 10) >= 1)
    target = (size_t)g_ascii_strtoull (e, NULL, 10);
  size_t total = 1;
  for (cl_uint d = 0; d < l->dim; d++)
    total *= l->gws[d];
  size_t cu = t->dev->compute_units ? t->dev->compute_units : 1;
  while (target > 32 && total / target < cu)
    target /= 2;
  if (target > t->dev->max_work_group_size)
    target = t->dev->max_work_group_size;
  size_t lws[3] = { 1, 1, 1 }, left = target;
  for (cl_uint d = 0; d < l->dim; d++) {
    size_t cap = MIN (left, t->dev->max_work_item_sizes[d]);
    lws[d] = pow2_divisor (l->gws[d], cap);
    left /= lws[d];
  }
  if (fits (t, l, lws))
    memcpy (l->lws, lws, sizeof lws);
}

void
mace_cl_tuner_choose (MaceClTuner *t, MaceClLaunch *l)
{
  if (!l->kernel || l->fixed_lws)
    return;
  for (cl_uint d = 0; d < l->dim; d++)
    if (l->gws[d] == 0)
      return;
  char key[256];
  make_key (l, key, sizeof key);
  size_t *hit = g_hash_table_lookup (t->entries, key);
  if (hit) {
    memcpy (l->lws, hit, 3 * sizeof (size_t));
    return;
  }
  size_t stored[3];
  int variant = 0;
  if (!t->tune && t->cache
      && mace_cl_tuning_cache_lookup (t->cache, key, stored, &variant)) {
    bool ok = stored[0] == 0 || (l->dim >= 1 && fits (t, l, stored));
    memcpy (l->lws, ok ? stored : (size_t[3]){ 0, 0, 0 }, 3 * sizeof (size_t));
    return;
  }
  if (!t->tune) {
    default_lws (t, l);
    return;
  }
  size_t *lws = g_new0 (size_t, 3);
  tune_launch (t, l, lws);
  memcpy (l->lws, lws, 3 * sizeof (size_t));
  mace_log (MACE_LOG_DEBUG, "OpenCL tuner: %s -> %zux%zux%zu", key, lws[0],
            lws[1], lws[2]);
  g_hash_table_insert (t->entries, g_strdup (key), lws);
  if (t->cache)
    mace_cl_tuning_cache_store (t->cache, key, lws, 0);
}

void
mace_cl_tuner_flush (MaceClTuner *t)
{
  if (!t || !t->cache)
    return;
  MaceError err = { 0 };
  if (mace_cl_tuning_cache_flush (t->cache, &err) != MACE_OK)
    mace_log (MACE_LOG_WARNING, "OpenCL: tuning cache not written: %s",
              err.message);
}

void
mace_cl_tuner_free (MaceClTuner *t)
{
  if (!t)
    return;
  mace_cl_tuning_cache_close (t->cache);
  g_hash_table_destroy (t->entries);
  g_free (t);
}
