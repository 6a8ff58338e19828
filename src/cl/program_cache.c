/* SPDX-License-Identifier: Apache-2.0
 * The compiled-program cache (DESIGN.md, "Compiled-program cache"): looks
 * a program up by device section and (name, source SHA-256, options), hands
 * a cached binary to the driver under a crash marker, falls back to the
 * source on any doubt, and writes what was built once, on flush/close. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <glib.h>

#include "cache_file.h"
#include "program_cache.h"

typedef enum {
  MODE_READ_WRITE,
  MODE_READ_ONLY,
  MODE_OFF,
  MODE_REBUILD,
} Mode;

struct MaceClProgramCache {
  GMutex lock;
  char *path;
  Mode mode;
  bool writable; /* writes allowed (read-write/rebuild, not degraded) */
  bool rewrite;  /* damage was dropped: rewrite even if nothing new */
  cl_context context;
  cl_device_id device;
  char *labels[MACE_CACHE_DEVICE_KEYS];
  char *values[MACE_CACHE_DEVICE_KEYS];
  MaceCacheFile *file;
  MaceCacheStats stats;
  /* Programs built from source in this process, kept so their binaries
   * are taken again at flush time: some drivers (PoCL) compile the final
   * per-work-group-size code only at the first launch, and a binary taken
   * after warm-up carries it, which is what makes a warm start fast. */
  GPtrArray *built; /* BuiltProgram* */
  /* A read-only cache under this one (shipped with an app): consulted
   * when this one has no valid entry; never written. */
  MaceClProgramCache *base;
};

typedef struct {
  char *keys[3];
  cl_program program;
} BuiltProgram;

static MaceCacheSection *current_section (MaceClProgramCache *c);

static void
built_program_free (gpointer data)
{
  BuiltProgram *b = data;
  for (int i = 0; i < 3; i++)
    g_free (b->keys[i]);
  clReleaseProgram (b->program);
  g_free (b);
}

/* Puts the program's current binary into the current section. */
static bool
record_binary (MaceClProgramCache *c, const char *const *keys, cl_program p)
{
  size_t size = 0;
  cl_int st
      = clGetProgramInfo (p, CL_PROGRAM_BINARY_SIZES, sizeof size, &size, NULL);
  if (st != CL_SUCCESS || size == 0)
    return false;
  unsigned char *bin = g_malloc (size);
  st = clGetProgramInfo (p, CL_PROGRAM_BINARIES, sizeof bin, &bin, NULL);
  if (st == CL_SUCCESS) {
    MaceCacheSection *s = current_section (c);
    /* Unchanged since the last record: nothing new to write. */
    int i = mace_cache_section_find_entry (s, 3, keys);
    MaceCacheEntry *old = i >= 0 ? g_ptr_array_index (s->entries, i) : NULL;
    if (!old || old->size != size || memcmp (old->data, bin, size) != 0) {
      MaceCacheEntry *e
          = mace_cache_entry_new (3, keys, bin, size, mace_cache_now_us ());
      e->fresh = true;
      mace_cache_section_put (s, e);
    }
  }
  g_free (bin);
  return st == CL_SUCCESS;
}

static const char *const mode_names[]
    = { "read-write", "read-only", "off", "rebuild" };

static const char *
cl_err_name (cl_int e)
{
  switch (e) {
    case CL_SUCCESS: return "CL_SUCCESS";
    case CL_DEVICE_NOT_AVAILABLE: return "CL_DEVICE_NOT_AVAILABLE";
    case CL_COMPILER_NOT_AVAILABLE: return "CL_COMPILER_NOT_AVAILABLE";
    case CL_OUT_OF_RESOURCES: return "CL_OUT_OF_RESOURCES";
    case CL_OUT_OF_HOST_MEMORY: return "CL_OUT_OF_HOST_MEMORY";
    case CL_BUILD_PROGRAM_FAILURE: return "CL_BUILD_PROGRAM_FAILURE";
    case CL_INVALID_VALUE: return "CL_INVALID_VALUE";
    case CL_INVALID_DEVICE: return "CL_INVALID_DEVICE";
    case CL_INVALID_BINARY: return "CL_INVALID_BINARY";
    case CL_INVALID_BUILD_OPTIONS: return "CL_INVALID_BUILD_OPTIONS";
    case CL_INVALID_PROGRAM: return "CL_INVALID_PROGRAM";
    case CL_INVALID_CONTEXT: return "CL_INVALID_CONTEXT";
    case CL_INVALID_OPERATION: return "CL_INVALID_OPERATION";
    case CL_INVALID_PROGRAM_EXECUTABLE: return "CL_INVALID_PROGRAM_EXECUTABLE";
  }
  return "OpenCL error";
}

static char *
device_string (cl_device_id device, cl_device_info what, cl_int *status)
{
  size_t n = 0;
  *status = clGetDeviceInfo (device, what, 0, NULL, &n);
  if (*status != CL_SUCCESS)
    return NULL;
  char *s = g_malloc0 (n + 1);
  *status = clGetDeviceInfo (device, what, n, s, NULL);
  if (*status != CL_SUCCESS) {
    g_free (s);
    return NULL;
  }
  return g_strstrip (s);
}

static char *
platform_string (cl_platform_id platform, cl_platform_info what, cl_int *status)
{
  size_t n = 0;
  *status = clGetPlatformInfo (platform, what, 0, NULL, &n);
  if (*status != CL_SUCCESS)
    return NULL;
  char *s = g_malloc0 (n + 1);
  *status = clGetPlatformInfo (platform, what, n, s, NULL);
  if (*status != CL_SUCCESS) {
    g_free (s);
    return NULL;
  }
  return g_strstrip (s);
}

MaceStatus
mace_cl_cache_device_keys (cl_device_id device,
                           char *labels[MACE_CACHE_DEVICE_KEYS],
                           char *values[MACE_CACHE_DEVICE_KEYS], MaceError *err)
{
  static const char *const names[MACE_CACHE_DEVICE_KEYS] = {
    "platform name",  "platform version", "device name",   "vendor id",
    "driver version", "OpenCL C version", "pointer width",
  };
  cl_platform_id platform = NULL;
  cl_uint vendor = 0, bits = 0;
  cl_int st = clGetDeviceInfo (device, CL_DEVICE_PLATFORM, sizeof platform,
                               &platform, NULL);
  if (st == CL_SUCCESS)
    st = clGetDeviceInfo (device, CL_DEVICE_VENDOR_ID, sizeof vendor, &vendor,
                          NULL);
  if (st == CL_SUCCESS)
    st = clGetDeviceInfo (device, CL_DEVICE_ADDRESS_BITS, sizeof bits, &bits,
                          NULL);
  for (int i = 0; i < MACE_CACHE_DEVICE_KEYS; i++) {
    labels[i] = g_strdup (names[i]);
    values[i] = NULL;
  }
  if (st == CL_SUCCESS)
    values[0] = platform_string (platform, CL_PLATFORM_NAME, &st);
  if (st == CL_SUCCESS)
    values[1] = platform_string (platform, CL_PLATFORM_VERSION, &st);
  if (st == CL_SUCCESS)
    values[2] = device_string (device, CL_DEVICE_NAME, &st);
  if (st == CL_SUCCESS)
    values[4] = device_string (device, CL_DRIVER_VERSION, &st);
  if (st == CL_SUCCESS)
    values[5] = device_string (device, CL_DEVICE_OPENCL_C_VERSION, &st);
  values[3] = g_strdup_printf ("0x%04x", vendor);
  values[6] = g_strdup_printf ("%u", bits);
  if (st != CL_SUCCESS) {
    for (int i = 0; i < MACE_CACHE_DEVICE_KEYS; i++) {
      g_free (labels[i]);
      g_free (values[i]);
      labels[i] = values[i] = NULL;
    }
    mace_set_error (err, MACE_ERROR_BACKEND,
                    "cannot query the OpenCL device for the cache key: %s "
                    "(%d)",
                    cl_err_name (st), st);
    return MACE_ERROR_BACKEND;
  }
  return MACE_OK;
}

static void
report_problem (MaceCacheProblem problem, const char *message, void *data)
{
  MaceClProgramCache *c = data;
  if (problem == MACE_CACHE_PROBLEM_CORRUPT) {
    c->stats.rejected_corrupt++;
    mace_log (MACE_LOG_WARNING,
              "%s; the damaged part is dropped and rebuilt from source",
              message);
  } else {
    mace_log (MACE_LOG_WARNING, "%s", message);
  }
  c->rewrite = true;
}

/* The section of this device, created when missing. */
static MaceCacheSection *
current_section (MaceClProgramCache *c)
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

/* Sections of this same device made by another driver (stale). */
static MaceCacheSection *
obsolete_section (MaceClProgramCache *c)
{
  const MaceCacheRules *rules = mace_cache_rules (MACE_CACHE_KIND_PROGRAMS);
  for (guint i = 0; i < c->file->sections->len; i++) {
    MaceCacheSection *s = g_ptr_array_index (c->file->sections, i);
    if (s->n_keys != MACE_CACHE_DEVICE_KEYS || s->current)
      continue;
    bool same = true, differs = false;
    for (int k = 0; k < MACE_CACHE_DEVICE_KEYS; k++) {
      bool eq = strcmp (s->values[k], c->values[k]) == 0;
      if (rules->section_identity_mask & (1u << k))
        same = same && eq;
      else
        differs = differs || !eq;
    }
    if (same && differs)
      return s;
  }
  return NULL;
}

/* Moves a cache aside after a crash while loading one of its binaries. */
static void
handle_crash_marker (MaceClProgramCache *c, bool *ignore_file)
{
  char *which = NULL;
  if (!mace_cache_marker_crashed (c->path, &which))
    return;
  if (!c->writable) {
    mace_log (MACE_LOG_WARNING,
              "%s: a process crashed while loading a cached program (marker "
              "%s is left); ignoring the cache (read-only: it stays as it is)",
              c->path, which);
    *ignore_file = true;
    g_free (which);
    return;
  }
  int fd = mace_cache_lock (c->path, NULL);
  /* Re-check under the lock: another process may have handled it. */
  if (mace_cache_marker_crashed (c->path, NULL)) {
    char *aside = g_strconcat (c->path, ".crashed", NULL);
    if (rename (c->path, aside) == 0)
      mace_log (MACE_LOG_WARNING,
                "%s: a process crashed while loading a cached program "
                "(marker %s is left); the cache was moved to %s and is "
                "ignored; programs are rebuilt from source",
                c->path, which, aside);
    else if (errno != ENOENT)
      mace_log (MACE_LOG_WARNING,
                "%s: a process crashed while loading a cached program "
                "(marker %s is left) and the cache cannot be moved aside "
                "(%s); ignoring it",
                c->path, which, g_strerror (errno));
    *ignore_file = true;
    mace_cache_marker_clear_dead (c->path);
    g_free (aside);
  }
  mace_cache_unlock (fd);
  g_free (which);
}

MaceClProgramCache *
mace_cl_program_cache_open (const char *path, const char *mode,
                            cl_context context, cl_device_id device,
                            MaceError *err)
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
                      "program cache mode '%s' is not one of read-write, "
                      "read-only, off, rebuild",
                      mode);
      return NULL;
    }
  }
  MaceClProgramCache *c = g_new0 (MaceClProgramCache, 1);
  c->built = g_ptr_array_new_with_free_func (built_program_free);
  g_mutex_init (&c->lock);
  c->path = path ? g_strdup (path)
                 : mace_cache_default_path (MACE_CL_PROGRAM_CACHE_FILE);
  c->mode = m;
  c->context = context;
  c->device = device;
  c->file = mace_cache_file_new (MACE_CACHE_KIND_PROGRAMS);
  MaceError e = { 0 };
  if (mace_cl_cache_device_keys (device, c->labels, c->values, &e) != MACE_OK) {
    mace_log (MACE_LOG_WARNING, "%s: %s; the program cache is off", c->path,
              e.message);
    for (int i = 0; i < MACE_CACHE_DEVICE_KEYS; i++) {
      c->labels[i] = g_strdup ("?");
      c->values[i] = g_strdup ("?");
    }
    c->mode = MODE_OFF;
  }
  if (c->mode == MODE_OFF) {
    current_section (c);
    return c;
  }
  c->writable = c->mode == MODE_READ_WRITE || c->mode == MODE_REBUILD;
  if (c->writable && !mace_cache_path_writable (c->path, &e)) {
    mace_log (MACE_LOG_WARNING,
              "%s: the program cache cannot be written (%s); using it "
              "read-only",
              c->path, e.message);
    c->writable = false;
  }
  bool ignore_file = false;
  handle_crash_marker (c, &ignore_file);
  if (c->mode == MODE_REBUILD) {
    mace_log (MACE_LOG_INFO,
              "%s: rebuild mode: every program is built from "
              "source",
              c->path);
  } else if (!ignore_file) {
    bool missing = false;
    mace_cache_file_free (c->file);
    c->file = mace_cache_file_load (c->path, MACE_CACHE_KIND_PROGRAMS,
                                    report_problem, c, NULL, &missing);
    /* Not a second warning when the cache is already known unwritable. */
    if (missing)
      mace_log (c->writable || c->mode == MODE_READ_ONLY ? MACE_LOG_WARNING
                                                         : MACE_LOG_INFO,
                "File %s does not exist", c->path);
  }
  MaceCacheSection *cur = current_section (c);
  cur->replace_all = c->mode == MODE_REBUILD;
  MaceCacheSection *old = obsolete_section (c);
  if (old && cur->entries->len == 0) {
    GString *why = g_string_new (NULL);
    for (int k = 0; k < MACE_CACHE_DEVICE_KEYS; k++)
      if (strcmp (old->values[k], c->values[k]) != 0)
        g_string_append_printf (why, "%s%s '%s', now '%s'",
                                why->len ? "; " : "", c->labels[k],
                                old->values[k], c->values[k]);
    mace_log (MACE_LOG_WARNING,
              "%s: the cached programs of %s were built by another driver "
              "(%s); they are rebuilt from source",
              c->path, c->values[2], why->str);
    g_string_free (why, TRUE);
  }
  return c;
}

static void
program_build_log (cl_program p, cl_device_id device, char *buf, size_t len)
{
  size_t n = 0;
  buf[0] = '\0';
  if (clGetProgramBuildInfo (p, device, CL_PROGRAM_BUILD_LOG, 0, NULL, &n)
          != CL_SUCCESS
      || n == 0)
    return;
  char *log = g_malloc0 (n + 1);
  if (clGetProgramBuildInfo (p, device, CL_PROGRAM_BUILD_LOG, n, log, NULL)
      == CL_SUCCESS)
    g_strlcpy (buf, g_strstrip (log), len);
  g_free (log);
}

static double
elapsed_ms (int64_t t0)
{
  return (double)(g_get_monotonic_time () - t0) / 1000.0;
}

/* Hands a cached binary to the driver.  NULL with `why` filled when the
 * driver refuses it. */
static cl_program
load_binary (MaceClProgramCache *c, const MaceCacheEntry *e,
             const char *options, char *why, size_t why_len)
{
  char *marker = mace_cache_marker_begin (c->path);
  const unsigned char *bin = e->data;
  size_t size = e->size;
  cl_int bin_status = CL_SUCCESS, st;
  int64_t t0 = g_get_monotonic_time ();
  cl_program p = clCreateProgramWithBinary (c->context, 1, &c->device, &size,
                                            &bin, &bin_status, &st);
  if (st != CL_SUCCESS || bin_status != CL_SUCCESS) {
    snprintf (why, why_len, "clCreateProgramWithBinary: %s (%d)",
              cl_err_name (st != CL_SUCCESS ? st : bin_status),
              st != CL_SUCCESS ? st : bin_status);
    goto fail;
  }
  st = clBuildProgram (p, 1, &c->device, options, NULL, NULL);
  if (st != CL_SUCCESS) {
    char log[512];
    program_build_log (p, c->device, log, sizeof log);
    snprintf (why, why_len, "clBuildProgram: %s (%d)%s%s", cl_err_name (st), st,
              log[0] ? ": " : "", log);
    goto fail;
  }
  cl_uint n_kernels = 0;
  st = clCreateKernelsInProgram (p, 0, NULL, &n_kernels);
  if (st != CL_SUCCESS || n_kernels == 0) {
    snprintf (why, why_len, "the built binary has no kernels (%s)",
              cl_err_name (st));
    goto fail;
  }
  c->stats.compile_ms += elapsed_ms (t0);
  mace_cache_marker_end (marker);
  return p;
fail:
  if (p)
    clReleaseProgram (p);
  c->stats.compile_ms += elapsed_ms (t0);
  mace_cache_marker_end (marker);
  return NULL;
}

/* Why no exact entry matched, for the log and the counters. */
static void
explain_miss (MaceClProgramCache *c, MaceCacheSection *s, const char *name,
              const char *hash, const char *options)
{
  MaceCacheEntry *same_options = NULL, *same_name = NULL;
  for (guint i = 0; i < s->entries->len; i++) {
    MaceCacheEntry *e = g_ptr_array_index (s->entries, i);
    if (e->n_keys != 3 || strcmp (e->keys[0], name) != 0)
      continue;
    same_name = e;
    if (strcmp (e->keys[2], options) == 0)
      same_options = e;
  }
  if (same_options) {
    c->stats.rejected_stale++;
    mace_log (MACE_LOG_INFO,
              "%s: program '%s' is stale: its source changed (cached sha256 "
              "%.12s, now %.12s); rebuilding it",
              c->path, name, same_options->keys[1], hash);
    return;
  }
  if (same_name) {
    c->stats.rejected_stale++;
    mace_log (MACE_LOG_INFO,
              "%s: program '%s' is stale: its build options changed (cached "
              "'%s', now '%s')%s; rebuilding it",
              c->path, name, same_name->keys[2], options,
              strcmp (same_name->keys[1], hash) != 0 ? " and its source" : "");
    return;
  }
  MaceCacheSection *old = obsolete_section (c);
  if (old) {
    for (guint i = 0; i < old->entries->len; i++) {
      MaceCacheEntry *e = g_ptr_array_index (old->entries, i);
      if (e->n_keys == 3 && strcmp (e->keys[0], name) == 0) {
        c->stats.rejected_stale++;
        mace_log (MACE_LOG_INFO,
                  "%s: program '%s' is stale: cached for driver '%s', now "
                  "'%s'; rebuilding it",
                  c->path, name, old->values[4], c->values[4]);
        return;
      }
    }
  }
  mace_log (MACE_LOG_DEBUG, "%s: program '%s' is not cached; building it",
            c->path, name);
}

/* The program from the base cache, NULL when it has no valid entry (a
 * binary the driver refuses is reported and skipped; the base file is
 * never changed).  c->lock is held. */
static cl_program
base_lookup (MaceClProgramCache *c, const char *const *keys,
             const char *options)
{
  MaceClProgramCache *b = c->base;
  cl_program p = NULL;
  g_mutex_lock (&b->lock);
  MaceCacheSection *s = current_section (b);
  int i = b->mode == MODE_OFF ? -1 : mace_cache_section_find_entry (s, 3, keys);
  if (i >= 0) {
    char why[768];
    p = load_binary (b, g_ptr_array_index (s->entries, i), options, why,
                     sizeof why);
    if (p) {
      c->stats.cache_hits++;
      mace_log (MACE_LOG_DEBUG,
                "%s: program '%s' loaded from the base cache %s", c->path,
                keys[0], b->path);
    } else {
      c->stats.rejected_build++;
      mace_log (MACE_LOG_WARNING,
                "%s: the driver refused the binary of program '%s' in the "
                "base cache (%s); it is rebuilt from source",
                b->path, keys[0], why);
    }
  }
  g_mutex_unlock (&b->lock);
  return p;
}

void
mace_cl_program_cache_set_base (MaceClProgramCache *c, const char *path)
{
  if (!c || !path || !*path || c->mode == MODE_OFF || c->mode == MODE_REBUILD)
    return;
  MaceError err = { 0 };
  MaceClProgramCache *b = mace_cl_program_cache_open (
      path, "read-only", c->context, c->device, &err);
  if (!b) {
    mace_log (MACE_LOG_WARNING, "%s: base cache not used: %s", path,
              err.message);
    return;
  }
  g_mutex_lock (&c->lock);
  mace_cl_program_cache_close (c->base);
  c->base = b;
  g_mutex_unlock (&c->lock);
}

cl_program
mace_cl_program_cache_get (MaceClProgramCache *c, const char *name,
                           const char *source, const char *options,
                           MaceError *err)
{
  if (!options)
    options = "";
  char hash[65];
  mace_sha256_hex (source, strlen (source), hash);
  const char *keys[3] = { name, hash, options };
  cl_program p = NULL;
  cl_int st;
  g_mutex_lock (&c->lock);
  MaceCacheSection *s = current_section (c);
  int i = c->mode == MODE_OFF ? -1 : mace_cache_section_find_entry (s, 3, keys);
  if (i >= 0) {
    char why[768];
    MaceCacheEntry *e = g_ptr_array_index (s->entries, i);
    p = load_binary (c, e, options, why, sizeof why);
    if (p) {
      c->stats.cache_hits++;
      mace_log (MACE_LOG_DEBUG, "%s: program '%s' loaded from the cache",
                c->path, name);
      goto out;
    }
    c->stats.rejected_build++;
    mace_log (MACE_LOG_WARNING,
              "%s: the driver refused the cached binary of program '%s' (%s); "
              "it is dropped and rebuilt from source",
              c->path, name, why);
    mace_cache_section_remove (s, (guint)i, true);
    c->rewrite = true;
  }
  if (c->base && (p = base_lookup (c, keys, options)))
    goto out;
  if (i < 0 && c->mode != MODE_OFF)
    explain_miss (c, s, name, hash, options);
  c->stats.cache_misses++;

  int64_t t0 = g_get_monotonic_time ();
  p = clCreateProgramWithSource (c->context, 1, &source, NULL, &st);
  if (st != CL_SUCCESS) {
    mace_set_error (err, MACE_ERROR_BACKEND,
                    "OpenCL program '%s': clCreateProgramWithSource failed: "
                    "%s (%d)",
                    name, cl_err_name (st), st);
    p = NULL;
    goto out;
  }
  st = clBuildProgram (p, 1, &c->device, options, NULL, NULL);
  c->stats.compile_ms += elapsed_ms (t0);
  if (st != CL_SUCCESS) {
    char log[900];
    program_build_log (p, c->device, log, sizeof log);
    mace_set_error (err, MACE_ERROR_BACKEND,
                    "OpenCL program '%s' failed to build (%s, options '%s'): "
                    "%s",
                    name, cl_err_name (st), options,
                    log[0] ? log : "no build log");
    clReleaseProgram (p);
    p = NULL;
    goto out;
  }
  c->stats.programs_built++;
  if (c->mode == MODE_OFF)
    goto out;
  /* The binary is taken at flush time, not now: PoCL serialises a
   * program once, at the first query, and only a query after the first
   * launches includes the code it compiles then. */
  BuiltProgram *bp = g_new0 (BuiltProgram, 1);
  for (int k = 0; k < 3; k++)
    bp->keys[k] = g_strdup (keys[k]);
  clRetainProgram (p);
  bp->program = p;
  g_ptr_array_add (c->built, bp);
out:
  g_mutex_unlock (&c->lock);
  return p;
}

MaceStatus
mace_cl_program_cache_flush (MaceClProgramCache *c, MaceError *err)
{
  MaceStatus st = MACE_OK;
  g_mutex_lock (&c->lock);
  if (c->writable)
    for (guint i = 0; i < c->built->len; i++) {
      BuiltProgram *bp = g_ptr_array_index (c->built, i);
      if (!record_binary (c, (const char *const *)bp->keys, bp->program))
        mace_log (MACE_LOG_INFO,
                  "%s: the driver gives no binary for "
                  "program '%s'; it is not cached",
                  c->path, bp->keys[0]);
    }
  if (!c->writable || !(mace_cache_file_dirty (c->file) || c->rewrite))
    goto out;
  MaceError e = { 0 };
  st = mace_cache_file_merge_write (c->path, c->file, &e);
  if (st != MACE_OK) {
    /* One report: the caller's when it takes the error, else ours. */
    if (err)
      mace_set_error (err, st,
                      "%s: cannot write the program cache (%s); it is "
                      "read-only from now on",
                      c->path, e.message);
    else
      mace_log (MACE_LOG_WARNING,
                "%s: cannot write the program cache (%s); it is read-only "
                "from now on",
                c->path, e.message);
    c->writable = false;
    goto out;
  }
  c->rewrite = false;
  mace_log (MACE_LOG_DEBUG, "%s: program cache written", c->path);
out:
  g_mutex_unlock (&c->lock);
  return st;
}

void
mace_cl_program_cache_get_stats (const MaceClProgramCache *c,
                                 MaceCacheStats *stats)
{
  MaceClProgramCache *mc = (MaceClProgramCache *)c;
  g_mutex_lock (&mc->lock);
  stats->cache_hits = c->stats.cache_hits;
  stats->cache_misses = c->stats.cache_misses;
  stats->programs_built = c->stats.programs_built;
  stats->compile_ms = c->stats.compile_ms;
  stats->rejected_stale = c->stats.rejected_stale;
  stats->rejected_corrupt = c->stats.rejected_corrupt;
  stats->rejected_build = c->stats.rejected_build;
  if (c->base) {
    /* Loading the base's binaries is compile time too; its own
     * rejections (damaged file) count here as well. */
    g_mutex_lock (&c->base->lock);
    stats->compile_ms += c->base->stats.compile_ms;
    stats->rejected_stale += c->base->stats.rejected_stale;
    stats->rejected_corrupt += c->base->stats.rejected_corrupt;
    g_mutex_unlock (&c->base->lock);
  }
  g_mutex_unlock (&mc->lock);
}

const char *
mace_cl_program_cache_path (const MaceClProgramCache *c)
{
  return c->path;
}

void
mace_cl_program_cache_close (MaceClProgramCache *c)
{
  if (!c)
    return;
  mace_cl_program_cache_flush (c, NULL);
  mace_cl_program_cache_close (c->base);
  g_ptr_array_free (c->built, TRUE);
  mace_cache_file_free (c->file);
  for (int i = 0; i < MACE_CACHE_DEVICE_KEYS; i++) {
    g_free (c->labels[i]);
    g_free (c->values[i]);
  }
  g_free (c->path);
  g_mutex_clear (&c->lock);
  g_free (c);
}
