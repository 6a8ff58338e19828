/* SPDX-License-Identifier: Apache-2.0
 * The tuning cache (DESIGN.md, "Tuning cache"): tuned local work sizes and
 * kernel variants per device + kernel + shape, in the cache file format of
 * cache_file.h.  An entry's data is 3 x u64 lws + i32 variant (28 bytes,
 * little-endian). */
#include <string.h>

#include <glib.h>

#include "cache_file.h"
#include "program_cache.h"
#include "tuning_cache.h"

#define PARAMS_SIZE 28

typedef enum {
  MODE_READ_WRITE,
  MODE_READ_ONLY,
  MODE_OFF,
  MODE_REBUILD,
} Mode;

struct MaceClTuningCache {
  GMutex lock;
  char *path;
  Mode mode;
  bool writable;
  bool rewrite;
  char *labels[MACE_CACHE_DEVICE_KEYS];
  char *values[MACE_CACHE_DEVICE_KEYS];
  MaceCacheFile *file;
};

static const char *const mode_names[]
    = { "read-write", "read-only", "off", "rebuild" };

static void
report_problem (MaceCacheProblem problem, const char *message, void *data)
{
  MaceClTuningCache *c = data;
  mace_log (MACE_LOG_WARNING, "%s%s", message,
            problem == MACE_CACHE_PROBLEM_CORRUPT
                ? "; the damaged part is dropped"
                : "");
  c->rewrite = true;
}

static MaceCacheSection *
current_section (MaceClTuningCache *c)
{
  MaceCacheSection *s = mace_cache_file_find_section (
      c->file, MACE_CACHE_DEVICE_KEYS, c->values);
  if (!s) {
    s = mace_cache_section_new (MACE_CACHE_DEVICE_KEYS, c->labels, c->values);
    mace_cache_file_add_section (c->file, s);
  }
  s->current = true;
  return s;
}

MaceClTuningCache *
mace_cl_tuning_cache_open (const char *path, const char *mode,
                           cl_device_id device, MaceError *err)
{
  Mode m = MODE_READ_WRITE;
  if (mode) {
    bool found = false;
    for (int i = 0; i < 4; i++)
      if (strcmp (mode, mode_names[i]) == 0) {
        m = (Mode)i;
        found = true;
      }
    if (!found) {
      mace_set_error (err, MACE_ERROR_INVALID_ARG,
                      "tuning cache mode '%s' is not one of read-write, "
                      "read-only, off, rebuild",
                      mode);
      return NULL;
    }
  }
  MaceClTuningCache *c = g_new0 (MaceClTuningCache, 1);
  if (mace_cl_cache_device_keys (device, c->labels, c->values, err)
      != MACE_OK) {
    g_free (c);
    return NULL;
  }
  g_mutex_init (&c->lock);
  c->path = path ? g_strdup (path)
                 : mace_cache_default_path (MACE_CL_TUNING_CACHE_FILE);
  c->mode = m;
  c->file = mace_cache_file_new (MACE_CACHE_KIND_TUNING);
  if (m != MODE_OFF) {
    MaceError e = { 0 };
    c->writable = m == MODE_READ_WRITE || m == MODE_REBUILD;
    if (c->writable && !mace_cache_path_writable (c->path, &e)) {
      mace_log (MACE_LOG_WARNING,
                "%s: the tuning cache cannot be written (%s); using it "
                "read-only",
                c->path, e.message);
      c->writable = false;
    }
    if (m != MODE_REBUILD) {
      bool missing = false;
      mace_cache_file_free (c->file);
      c->file = mace_cache_file_load (c->path, MACE_CACHE_KIND_TUNING,
                                      report_problem, c, NULL, &missing);
      if (missing)
        mace_log (MACE_LOG_INFO, "File %s does not exist", c->path);
    }
  }
  current_section (c)->replace_all = m == MODE_REBUILD;
  return c;
}

static uint64_t
rd64 (const uint8_t *p)
{
  uint64_t v = 0;
  for (int i = 7; i >= 0; i--)
    v = v << 8 | p[i];
  return v;
}

int
mace_cl_tuning_cache_lookup (MaceClTuningCache *c, const char *key,
                             size_t lws[3], int *variant)
{
  int found = 0;
  g_mutex_lock (&c->lock);
  MaceCacheSection *s = current_section (c);
  int i = mace_cache_section_find_entry (s, 1, &key);
  if (i >= 0) {
    MaceCacheEntry *e = g_ptr_array_index (s->entries, i);
    if (e->size == PARAMS_SIZE) {
      for (int k = 0; k < 3; k++)
        lws[k] = (size_t)rd64 (e->data + 8 * k);
      uint32_t v = 0;
      for (int b = 3; b >= 0; b--)
        v = v << 8 | e->data[24 + b];
      if (variant)
        *variant = (int)(int32_t)v;
      found = 1;
    }
  }
  g_mutex_unlock (&c->lock);
  return found;
}

void
mace_cl_tuning_cache_store (MaceClTuningCache *c, const char *key,
                            const size_t lws[3], int variant)
{
  uint8_t d[PARAMS_SIZE];
  for (int k = 0; k < 3; k++)
    for (int b = 0; b < 8; b++)
      d[8 * k + b] = (uint8_t)((uint64_t)lws[k] >> (8 * b));
  for (int b = 0; b < 4; b++)
    d[24 + b] = (uint8_t)((uint32_t)variant >> (8 * b));
  g_mutex_lock (&c->lock);
  MaceCacheSection *s = current_section (c);
  int i = mace_cache_section_find_entry (s, 1, &key);
  if (i < 0
      || ((MaceCacheEntry *)g_ptr_array_index (s->entries, i))->size
             != PARAMS_SIZE
      || memcmp (((MaceCacheEntry *)g_ptr_array_index (s->entries, i))->data, d,
                 PARAMS_SIZE)
             != 0) {
    MaceCacheEntry *e
        = mace_cache_entry_new (1, &key, d, PARAMS_SIZE, mace_cache_now_us ());
    e->fresh = true;
    mace_cache_section_put (s, e);
  }
  g_mutex_unlock (&c->lock);
}

MaceStatus
mace_cl_tuning_cache_flush (MaceClTuningCache *c, MaceError *err)
{
  MaceStatus st = MACE_OK;
  g_mutex_lock (&c->lock);
  if (!c->writable || !(mace_cache_file_dirty (c->file) || c->rewrite))
    goto out;
  MaceError e = { 0 };
  st = mace_cache_file_merge_write (c->path, c->file, &e);
  if (st != MACE_OK) {
    /* One report: the caller's when it takes the error, else ours. */
    if (err)
      mace_set_error (err, st,
                      "%s: cannot write the tuning cache (%s); it is "
                      "read-only from now on",
                      c->path, e.message);
    else
      mace_log (MACE_LOG_WARNING,
                "%s: cannot write the tuning cache (%s); it is read-only "
                "from now on",
                c->path, e.message);
    c->writable = false;
    goto out;
  }
  c->rewrite = false;
out:
  g_mutex_unlock (&c->lock);
  return st;
}

void
mace_cl_tuning_cache_close (MaceClTuningCache *c)
{
  if (!c)
    return;
  mace_cl_tuning_cache_flush (c, NULL);
  mace_cache_file_free (c->file);
  for (int i = 0; i < MACE_CACHE_DEVICE_KEYS; i++) {
    g_free (c->labels[i]);
    g_free (c->values[i]);
  }
  g_free (c->path);
  g_mutex_clear (&c->lock);
  g_free (c);
}
