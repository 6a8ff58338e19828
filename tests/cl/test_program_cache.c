/* SPDX-License-Identifier: Apache-2.0
 * Compiled-program cache and tuning cache tests, one case per run:
 *   test_program_cache CASE
 * Each case works in its own temporary directory with two or three tiny
 * kernels.  Exit status: 0 pass, 1 fail, 77 skip (no OpenCL device, for
 * the cases that need one).  Run with POCL_KERNEL_CACHE=0 so PoCL's own
 * cache does not hide anything. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <glib.h>
#include <glib/gstdio.h>

#include "cl/cache_file.h"
#include "cl/program_cache.h"
#include "cl/tuning_cache.h"
#include "commands.h"

/* ---- Checks and log capture ------------------------------------------ */

static int failures;
static const char *case_name = "";

#define CHECK(cond, ...)                                                       \
  do {                                                                         \
    if (!(cond)) {                                                             \
      failures++;                                                              \
      fprintf (stderr, "FAIL [%s] %s:%d: %s: ", case_name, __FILE__, __LINE__, \
               #cond);                                                         \
      fprintf (stderr, __VA_ARGS__);                                           \
      fputc ('\n', stderr);                                                    \
    }                                                                          \
  } while (0)

static GPtrArray *logs; /* "LEVEL message" */
static int n_warnings;

static void
capture_log (MaceLogLevel level, const char *message, void *user_data)
{
  (void)user_data;
  static const char *names[] = { "ERROR", "WARNING", "INFO", "DEBUG" };
  g_ptr_array_add (logs, g_strdup_printf ("%s %s", names[level], message));
  if (level <= MACE_LOG_WARNING)
    n_warnings++;
  if (g_getenv ("TEST_VERBOSE") || level <= MACE_LOG_INFO)
    fprintf (stderr, "  log %s: %s\n", names[level], message);
}

static void
logs_reset (void)
{
  g_ptr_array_set_size (logs, 0);
  n_warnings = 0;
}

/* Whether some captured message contains all the given substrings. */
static bool
logged (const char *a, const char *b)
{
  for (guint i = 0; i < logs->len; i++) {
    const char *m = g_ptr_array_index (logs, i);
    if (strstr (m, a) && (!b || strstr (m, b)))
      return true;
  }
  return false;
}

/* ---- OpenCL ----------------------------------------------------------- */

static cl_context ctx;
static cl_device_id dev;
static cl_command_queue queue;

static bool
cl_setup (void)
{
  cl_platform_id plats[8];
  cl_uint n = 0;
  if (clGetPlatformIDs (8, plats, &n) != CL_SUCCESS || n == 0)
    return false;
  for (cl_uint i = 0; i < n; i++) {
    cl_uint nd = 0;
    if (clGetDeviceIDs (plats[i], CL_DEVICE_TYPE_ALL, 1, &dev, &nd)
            == CL_SUCCESS
        && nd > 0) {
      cl_int st;
      ctx = clCreateContext (NULL, 1, &dev, NULL, NULL, &st);
      if (st != CL_SUCCESS)
        return false;
      queue = clCreateCommandQueue (ctx, dev, 0, &st);
      return st == CL_SUCCESS;
    }
  }
  return false;
}

static void
cl_teardown (void)
{
  if (queue)
    clReleaseCommandQueue (queue);
  if (ctx)
    clReleaseContext (ctx);
  queue = NULL;
  ctx = NULL;
}

/* ---- Test kernels ----------------------------------------------------- */

typedef struct {
  const char *name;
  const char *source;
  const char *options;
} Prog;

static const char src_add[] = "/* adds a constant */\n"
                              "__kernel void add1 (__global float *x) {\n"
                              "  size_t i = get_global_id (0);\n"
                              "  x[i] = x[i] + OFFSET;\n"
                              "}\n";
static const char src_add_v2[] = "/* adds a constant, version 2 */\n"
                                 "__kernel void add1 (__global float *x) {\n"
                                 "  size_t i = get_global_id (0);\n"
                                 "  x[i] = OFFSET + x[i];\n"
                                 "}\n";
static const char src_poly[]
    = "/* a polynomial with transcendental parts */\n"
      "__kernel void poly (__global const float *x, __global float *y) {\n"
      "  size_t i = get_global_id (0);\n"
      "  float v = x[i];\n"
      "  y[i] = sin (v) * v + exp (-v * v) * 0.5f + sqrt (fabs (v));\n"
      "}\n";

static const Prog prog_add = { "add", src_add, "-DOFFSET=1.0f" };
static const Prog prog_add_v2 = { "add", src_add_v2, "-DOFFSET=1.0f" };
static const Prog prog_add_opt = { "add", src_add, "-DOFFSET=2.0f" };
static const Prog prog_poly = { "poly", src_poly, "" };

/* Opens the cache, gets every program, closes (which flushes).  Returns
 * the counters.  ok is set false if a program could not be had. */
static const char *base_path; /* run_cache: the base cache, NULL = none */

static MaceCacheStats
run_cache (const char *path, const char *mode, const Prog *const *progs, int n,
           bool *ok)
{
  MaceCacheStats st = { 0 };
  MaceError err = { 0 };
  logs_reset ();
  *ok = true;
  MaceClProgramCache *c
      = mace_cl_program_cache_open (path, mode, ctx, dev, &err);
  if (!c) {
    fprintf (stderr, "open failed: %s\n", err.message);
    *ok = false;
    return st;
  }
  if (base_path)
    mace_cl_program_cache_set_base (c, base_path);
  for (int i = 0; i < n; i++) {
    cl_program p = mace_cl_program_cache_get (
        c, progs[i]->name, progs[i]->source, progs[i]->options, &err);
    if (!p) {
      fprintf (stderr, "get %s failed: %s\n", progs[i]->name, err.message);
      *ok = false;
      continue;
    }
    cl_int e;
    cl_kernel k
        = clCreateKernel (p, progs[i]->name[0] == 'a' ? "add1" : "poly", &e);
    if (e != CL_SUCCESS) {
      fprintf (stderr, "kernel of %s: %d\n", progs[i]->name, e);
      *ok = false;
    } else {
      clReleaseKernel (k);
    }
    clReleaseProgram (p);
  }
  mace_cl_program_cache_get_stats (c, &st);
  mace_cl_program_cache_close (c);
  return st;
}

/* ---- File helpers ----------------------------------------------------- */

static char *tmpdir;

static char *
tmp_path (const char *name)
{
  return g_build_filename (tmpdir, name, NULL);
}

static void
rm_rf (const char *path)
{
  GDir *d = g_dir_open (path, 0, NULL);
  const char *e;
  while (d && (e = g_dir_read_name (d))) {
    char *p = g_build_filename (path, e, NULL);
    if (g_file_test (p, G_FILE_TEST_IS_DIR)
        && !g_file_test (p, G_FILE_TEST_IS_SYMLINK))
      rm_rf (p);
    else
      g_unlink (p);
    g_free (p);
  }
  if (d)
    g_dir_close (d);
  g_rmdir (path);
}

static GBytes *
slurp (const char *path)
{
  gchar *data = NULL;
  gsize len = 0;
  if (!g_file_get_contents (path, &data, &len, NULL))
    return NULL;
  return g_bytes_new_take (data, len);
}

static void
spit (const char *path, const void *data, size_t len)
{
  GError *e = NULL;
  if (!g_file_set_contents (path, data, (gssize)len, &e)) {
    fprintf (stderr, "cannot write %s: %s\n", path, e->message);
    exit (1);
  }
}

/* A writable copy of bytes; *n set to their size. */
static uint8_t *
dup_bytes (GBytes *b, gsize *n)
{
  const void *d = g_bytes_get_data (b, n);
  return g_memdup2 (d, *n);
}

static MaceCacheFile *
load_file (const char *path, int *problems)
{
  return mace_cache_file_load (path, 0, NULL, NULL, problems, NULL);
}

static void
save_file (const char *path, const MaceCacheFile *f)
{
  uint8_t *b;
  size_t n;
  mace_cache_file_serialize (f, &b, &n);
  spit (path, b, n);
  g_free (b);
}

static int
verify (const char *path)
{
  GBytes *b = slurp (path);
  if (!b)
    return -1;
  FILE *null = fopen ("/dev/null", "w");
  gsize n;
  const uint8_t *d = g_bytes_get_data (b, &n);
  int problems = mace_cache_file_dump (d, n, path, null, true);
  fclose (null);
  g_bytes_unref (b);
  return problems;
}

static int
count_entries (const MaceCacheFile *f)
{
  int n = 0;
  for (guint i = 0; i < f->sections->len; i++)
    n += (int)((MaceCacheSection *)g_ptr_array_index (f->sections, i))
             ->entries->len;
  return n;
}

/* Entry of program `name` with source `src` in any section, or NULL. */
static MaceCacheEntry *
find_prog (const MaceCacheFile *f, const Prog *p)
{
  char hash[65];
  mace_sha256_hex (p->source, strlen (p->source), hash);
  for (guint i = 0; i < f->sections->len; i++) {
    MaceCacheSection *s = g_ptr_array_index (f->sections, i);
    for (guint j = 0; j < s->entries->len; j++) {
      MaceCacheEntry *e = g_ptr_array_index (s->entries, j);
      if (e->n_keys == 3 && strcmp (e->keys[0], p->name) == 0
          && strcmp (e->keys[1], hash) == 0
          && strcmp (e->keys[2], p->options) == 0)
        return e;
    }
  }
  return NULL;
}

static bool
exists (const char *path)
{
  return g_file_test (path, G_FILE_TEST_EXISTS);
}

static const Prog *const two[] = { &prog_add, &prog_poly };

/* A cold run that must build both programs and write the file. */
static void
cold (const char *path)
{
  bool ok;
  MaceCacheStats st = run_cache (path, NULL, two, 2, &ok);
  CHECK (ok, "cold run failed");
  CHECK (st.programs_built == 2, "built %" G_GINT64_FORMAT, st.programs_built);
  CHECK (exists (path), "no file written");
  CHECK (verify (path) == 0, "cold file does not verify");
}

/* A second run must hit everything. */
static void
expect_warm (const char *path)
{
  bool ok;
  MaceCacheStats st = run_cache (path, NULL, two, 2, &ok);
  CHECK (ok, "warm run failed");
  CHECK (st.programs_built == 0 && st.cache_hits == 2 && st.cache_misses == 0,
         "warm run: built %" G_GINT64_FORMAT " hits %" G_GINT64_FORMAT
         " misses %" G_GINT64_FORMAT,
         st.programs_built, st.cache_hits, st.cache_misses);
}

/* ---- Cases ------------------------------------------------------------ */

static void
case_missing (void)
{
  char *path = tmp_path ("sub/mace-cl-compiled-program.bin");
  bool ok;
  MaceCacheStats st = run_cache (path, NULL, two, 2, &ok);
  char *msg = g_strdup_printf ("File %s does not exist", path);
  CHECK (ok, "run failed");
  CHECK (logged (msg, NULL), "no '%s' message", msg);
  CHECK (st.cache_misses == 2 && st.programs_built == 2 && st.cache_hits == 0,
         "misses %" G_GINT64_FORMAT " built %" G_GINT64_FORMAT, st.cache_misses,
         st.programs_built);
  CHECK (st.compile_ms > 0, "no compile time");
  CHECK (exists (path), "file not written");
  CHECK (verify (path) == 0, "written file does not verify");
  MaceCacheFile *f = load_file (path, NULL);
  CHECK (find_prog (f, &prog_add) && find_prog (f, &prog_poly),
         "programs missing from the file");
  CHECK (f->sections->len == 1, "%u sections", f->sections->len);
  mace_cache_file_free (f);
  g_free (msg);
  g_free (path);
}

static void
case_warm (void)
{
  char *path = tmp_path ("mace-cl-compiled-program.bin");
  cold (path);
  struct stat a, b;
  stat (path, &a);
  GBytes *before = slurp (path);
  expect_warm (path);
  CHECK (n_warnings == 0, "%d warnings on a warm start", n_warnings);
  stat (path, &b);
  GBytes *after = slurp (path);
  CHECK (a.st_ino == b.st_ino && g_bytes_equal (before, after),
         "a warm start rewrote the file");
  g_bytes_unref (before);
  g_bytes_unref (after);
  g_free (path);
}

static void
case_stale_driver (void)
{
  char *path = tmp_path ("mace-cl-compiled-program.bin");
  cold (path);
  MaceCacheFile *f = load_file (path, NULL);
  MaceCacheSection *s = g_ptr_array_index (f->sections, 0);
  char *real_driver = g_strdup (s->values[4]);
  /* Our device, older driver. */
  g_free (s->values[4]);
  s->values[4] = g_strdup ("0.0-forged");
  /* Another device entirely: must be kept. */
  MaceCacheSection *o
      = mace_cache_section_new (s->n_keys, s->labels, s->values);
  g_free (o->values[2]);
  o->values[2] = g_strdup ("Other GPU");
  const char *keys[3] = { "other", "0123", "" };
  g_ptr_array_add (o->entries, mace_cache_entry_new (3, keys, "xyz", 3, 1));
  mace_cache_file_add_section (f, o);
  save_file (path, f);
  mace_cache_file_free (f);

  bool ok;
  MaceCacheStats st = run_cache (path, NULL, two, 2, &ok);
  CHECK (ok, "run failed");
  CHECK (st.programs_built == 2 && st.rejected_stale == 2,
         "built %" G_GINT64_FORMAT " stale %" G_GINT64_FORMAT,
         st.programs_built, st.rejected_stale);
  CHECK (logged ("driver version '0.0-forged'", real_driver),
         "no message naming the driver change");
  f = load_file (path, NULL);
  CHECK (verify (path) == 0, "file does not verify");
  CHECK (f->sections->len == 2, "%u sections (want ours + Other GPU)",
         f->sections->len);
  bool other = false, forged = false;
  for (guint i = 0; i < f->sections->len; i++) {
    MaceCacheSection *x = g_ptr_array_index (f->sections, i);
    bool is_other = strcmp (x->values[2], "Other GPU") == 0;
    other = other || is_other;
    forged = forged || (!is_other && strcmp (x->values[4], "0.0-forged") == 0);
  }
  CHECK (other, "the other device's section was dropped");
  CHECK (!forged, "the obsolete driver's section was kept");
  mace_cache_file_free (f);
  expect_warm (path);
  g_free (real_driver);
  g_free (path);
}

static void
case_stale_source (void)
{
  char *path = tmp_path ("mace-cl-compiled-program.bin");
  cold (path);
  bool ok;
  const Prog *const v2[] = { &prog_add_v2, &prog_poly };
  MaceCacheStats st = run_cache (path, NULL, v2, 2, &ok);
  CHECK (ok, "run failed");
  CHECK (st.programs_built == 1 && st.cache_hits == 1 && st.rejected_stale == 1,
         "built %" G_GINT64_FORMAT " hits %" G_GINT64_FORMAT
         " stale %" G_GINT64_FORMAT,
         st.programs_built, st.cache_hits, st.rejected_stale);
  CHECK (logged ("'add' is stale: its source changed", NULL),
         "no message naming the source change");
  MaceCacheFile *f = load_file (path, NULL);
  CHECK (find_prog (f, &prog_add_v2) && find_prog (f, &prog_poly),
         "new entry or other program missing");
  CHECK (!find_prog (f, &prog_add), "the superseded source is still there");
  mace_cache_file_free (f);

  /* Options changed: rebuilt, said so. */
  const Prog *const opt[] = { &prog_add_opt };
  st = run_cache (path, NULL, opt, 1, &ok);
  CHECK (ok && st.programs_built == 1 && st.rejected_stale == 1,
         "options change: built %" G_GINT64_FORMAT, st.programs_built);
  CHECK (logged ("build options changed", "-DOFFSET=2.0f"),
         "no message naming the options change");
  f = load_file (path, NULL);
  CHECK (find_prog (f, &prog_add_opt) && find_prog (f, &prog_poly),
         "entries missing after the options change");
  mace_cache_file_free (f);
  CHECK (verify (path) == 0, "file does not verify");
  g_free (path);
}

/* Runs after damage: the damaged part is rebuilt, the file rewritten. */
static void
expect_recovery (const char *path, const char *warning, int want_built)
{
  bool ok;
  MaceCacheStats st = run_cache (path, NULL, two, 2, &ok);
  CHECK (ok, "run after damage failed");
  CHECK (st.rejected_corrupt >= 1, "damage not counted");
  CHECK (st.programs_built == want_built,
         "built %" G_GINT64_FORMAT " (want %d)", st.programs_built, want_built);
  CHECK (logged (warning, path), "no warning with '%s'", warning);
  CHECK (verify (path) == 0, "rewritten file does not verify");
  MaceCacheFile *f = load_file (path, NULL);
  CHECK (find_prog (f, &prog_add) && find_prog (f, &prog_poly),
         "programs missing after the rewrite");
  mace_cache_file_free (f);
  expect_warm (path);
}

static void
case_truncated (void)
{
  char *path = tmp_path ("mace-cl-compiled-program.bin");
  cold (path);
  GBytes *b = slurp (path);
  gsize n;
  const uint8_t *d = g_bytes_get_data (b, &n);
  /* Cut inside the last entry: the first one survives. */
  spit (path, d, n - 100);
  g_bytes_unref (b);
  CHECK (verify (path) > 0, "verify accepts a truncated file");
  expect_recovery (path, "truncated", 1);
  g_free (path);
}

static void
case_flipped (void)
{
  char *path = tmp_path ("mace-cl-compiled-program.bin");
  cold (path);
  GBytes *b = slurp (path);
  gsize n;
  uint8_t *d = dup_bytes (b, &n);
  d[n - 50] ^= 0x5a; /* in the last entry's binary */
  d[n - 51] ^= 0xff;
  spit (path, d, n);
  g_free (d);
  g_bytes_unref (b);
  CHECK (verify (path) > 0, "verify accepts a flipped byte");
  expect_recovery (path, "checksum", 1);
  g_free (path);
}

static void
case_garbage (void)
{
  char *path = tmp_path ("mace-cl-compiled-program.bin");
  uint8_t junk[4096];
  for (size_t i = 0; i < sizeof junk; i++)
    junk[i] = (uint8_t)(i * 7919u >> 3);
  spit (path, junk, sizeof junk);
  expect_recovery (path, "bad magic", 2);
  /* A header that lies about its checksum. */
  GBytes *b = slurp (path);
  gsize n;
  uint8_t *d = dup_bytes (b, &n);
  d[50] ^= 1;
  spit (path, d, n);
  g_free (d);
  g_bytes_unref (b);
  expect_recovery (path, "header checksum", 2);
  g_free (path);
}

static void
case_empty (void)
{
  char *path = tmp_path ("mace-cl-compiled-program.bin");
  spit (path, "", 0);
  expect_recovery (path, "empty file", 2);
  g_free (path);
}

static void
case_version (void)
{
  char *path = tmp_path ("mace-cl-compiled-program.bin");
  cold (path);
  GBytes *b = slurp (path);
  gsize n;
  uint8_t *d = dup_bytes (b, &n);
  d[8] = 99;
  spit (path, d, n);
  g_free (d);
  g_bytes_unref (b);
  bool ok;
  MaceCacheStats st = run_cache (path, NULL, two, 2, &ok);
  CHECK (ok && st.programs_built == 2, "built %" G_GINT64_FORMAT,
         st.programs_built);
  CHECK (logged ("format version 99 is not supported", NULL),
         "no clear message about the version");
  CHECK (verify (path) == 0, "rewritten file does not verify");
  expect_warm (path);
  g_free (path);
}

static void
case_driver_reject (void)
{
  char *path = tmp_path ("mace-cl-compiled-program.bin");
  cold (path);
  /* A binary with a valid checksum that the driver cannot load. */
  MaceCacheFile *f = load_file (path, NULL);
  MaceCacheEntry *e = find_prog (f, &prog_add);
  CHECK (e != NULL, "entry missing");
  if (!e)
    return;
  MaceCacheSection *s = g_ptr_array_index (f->sections, 0);
  MaceCacheEntry *bad
      = mace_cache_entry_new (e->n_keys, (const char *const *)e->keys,
                              "not a binary at all", 19, e->written_us);
  mace_cache_section_put (s, bad);
  uint8_t bad_sum[32];
  memcpy (bad_sum, bad->sha256, 32);
  save_file (path, f);
  mace_cache_file_free (f);
  CHECK (verify (path) == 0, "forged file should verify (checksum is valid)");

  bool ok;
  MaceCacheStats st = run_cache (path, NULL, two, 2, &ok);
  CHECK (ok, "run failed");
  CHECK (st.rejected_build == 1 && st.programs_built == 1 && st.cache_hits == 1,
         "rejected_build %" G_GINT64_FORMAT " built %" G_GINT64_FORMAT
         " hits %" G_GINT64_FORMAT,
         st.rejected_build, st.programs_built, st.cache_hits);
  CHECK (logged ("refused the cached binary of program 'add'", NULL),
         "no warning about the refused binary");
  f = load_file (path, NULL);
  e = find_prog (f, &prog_add);
  CHECK (e && memcmp (e->sha256, bad_sum, 32) != 0,
         "the refused binary is still in the file");
  mace_cache_file_free (f);
  expect_warm (path);
  g_free (path);
}

static void
case_unwritable (void)
{
  /* A directory that cannot be created (its parent is a file): works as
   * root too, unlike a chmod'ed directory. */
  char *blocker = tmp_path ("not-a-dir");
  spit (blocker, "x", 1);
  char *path = g_build_filename (blocker, "mace-cl-compiled-program.bin", NULL);
  bool ok;
  MaceCacheStats st = run_cache (path, NULL, two, 2, &ok);
  CHECK (ok && st.programs_built == 2, "run failed");
  CHECK (n_warnings == 1, "%d warnings (want exactly one)", n_warnings);
  CHECK (logged ("cannot be written", path), "no warning naming the path");
  CHECK (!exists (path), "a file was written");
  /* A second open warns once again (once per cache), not per program. */
  st = run_cache (path, "rebuild", two, 2, &ok);
  CHECK (ok && n_warnings == 1, "%d warnings in rebuild mode", n_warnings);
  g_free (path);
  g_free (blocker);
}

static int
count_dir (const char *dir)
{
  int n = 0;
  GDir *d = g_dir_open (dir, 0, NULL);
  while (d && g_dir_read_name (d))
    n++;
  if (d)
    g_dir_close (d);
  return n;
}

static void
case_read_only (void)
{
  char *path = tmp_path ("mace-cl-compiled-program.bin");
  bool ok;
  MaceCacheStats st = run_cache (path, "read-only", two, 2, &ok);
  CHECK (ok && st.programs_built == 2, "run failed");
  CHECK (!exists (path), "read-only mode wrote a file");
  CHECK (count_dir (tmpdir) == 0, "read-only mode left files behind");
  cold (path);
  int files = count_dir (tmpdir);
  GBytes *before = slurp (path);
  const Prog *const v2[] = { &prog_add_v2, &prog_poly };
  st = run_cache (path, "read-only", v2, 2, &ok);
  CHECK (ok && st.programs_built == 1 && st.cache_hits == 1,
         "read-only: built %" G_GINT64_FORMAT " hits %" G_GINT64_FORMAT,
         st.programs_built, st.cache_hits);
  GBytes *after = slurp (path);
  CHECK (g_bytes_equal (before, after), "read-only mode changed the file");
  CHECK (count_dir (tmpdir) == files, "read-only mode left files behind");
  g_bytes_unref (before);
  g_bytes_unref (after);
  g_free (path);
}

/* A read-only base cache (shipped with an app) under a writable one. */
static void
case_base (void)
{
  char *base = tmp_path ("shipped.bin");
  char *path = tmp_path ("mace-cl-compiled-program.bin");
  bool ok;
  cold (base);
  chmod (base, 0444);
  GBytes *before = slurp (base);
  base_path = base;
  /* Everything from the base: nothing built, nothing written. */
  MaceCacheStats st = run_cache (path, NULL, two, 2, &ok);
  CHECK (ok && st.programs_built == 0 && st.cache_hits == 2
             && st.cache_misses == 0,
         "base: built %" G_GINT64_FORMAT " hits %" G_GINT64_FORMAT,
         st.programs_built, st.cache_hits);
  CHECK (!exists (path), "the user cache was written with nothing new");
  /* A program whose source changed: built and written to the user cache
   * only; the other one still comes from the base. */
  const Prog *const v2[] = { &prog_add_v2, &prog_poly };
  st = run_cache (path, NULL, v2, 2, &ok);
  CHECK (ok && st.programs_built == 1 && st.cache_hits == 1,
         "base, new source: built %" G_GINT64_FORMAT " hits %" G_GINT64_FORMAT,
         st.programs_built, st.cache_hits);
  CHECK (exists (path) && verify (path) == 0, "user cache not written");
  MaceCacheFile *f = exists (path) ? load_file (path, NULL) : NULL;
  CHECK (f && find_prog (f, &prog_add_v2) && !find_prog (f, &prog_poly),
         "the user cache should hold the new program only");
  mace_cache_file_free (f);
  st = run_cache (path, NULL, v2, 2, &ok);
  CHECK (ok && st.programs_built == 0 && st.cache_hits == 2,
         "both layers: built %" G_GINT64_FORMAT " hits %" G_GINT64_FORMAT,
         st.programs_built, st.cache_hits);
  GBytes *after = slurp (base);
  CHECK (after && g_bytes_equal (before, after), "the base cache changed");
  if (after)
    g_bytes_unref (after);
  /* Modes off and rebuild ignore the base. */
  st = run_cache (path, "off", two, 2, &ok);
  CHECK (ok && st.programs_built == 2 && st.cache_hits == 0,
         "off used the base: hits %" G_GINT64_FORMAT, st.cache_hits);
  /* A damaged base: a warning naming it, everything built, still fine. */
  chmod (base, 0644);
  spit (base, "garbage garbage garbage", 23);
  g_unlink (path);
  st = run_cache (path, NULL, two, 2, &ok);
  CHECK (ok && st.programs_built == 2, "damaged base: built %" G_GINT64_FORMAT,
         st.programs_built);
  CHECK (logged (base, NULL), "no message names the damaged base");
  CHECK (exists (path) && verify (path) == 0, "user cache not written");
  base_path = NULL;
  g_bytes_unref (before);
  g_free (base);
  g_free (path);
}

static void
case_off (void)
{
  char *path = tmp_path ("mace-cl-compiled-program.bin");
  bool ok;
  MaceCacheStats st = run_cache (path, "off", two, 2, &ok);
  CHECK (ok && st.programs_built == 2 && st.cache_hits == 0, "run failed");
  CHECK (count_dir (tmpdir) == 0, "off mode created files");
  cold (path);
  GBytes *before = slurp (path);
  st = run_cache (path, "off", two, 2, &ok);
  CHECK (ok && st.programs_built == 2 && st.cache_hits == 0,
         "off mode used the cache: hits %" G_GINT64_FORMAT, st.cache_hits);
  GBytes *after = slurp (path);
  CHECK (g_bytes_equal (before, after), "off mode changed the file");
  g_bytes_unref (before);
  g_bytes_unref (after);
  /* A bad mode is the one way open fails. */
  MaceError err = { 0 };
  CHECK (!mace_cl_program_cache_open (path, "sometimes", ctx, dev, &err)
             && err.status == MACE_ERROR_INVALID_ARG
             && strstr (err.message, "sometimes"),
         "bad mode accepted");
  g_free (path);
}

static void
case_rebuild (void)
{
  char *path = tmp_path ("mace-cl-compiled-program.bin");
  cold (path);
  MaceCacheFile *f = load_file (path, NULL);
  int64_t old_written = find_prog (f, &prog_add)->written_us;
  /* Another device's section survives a rebuild of ours. */
  MaceCacheSection *s = g_ptr_array_index (f->sections, 0);
  MaceCacheSection *o
      = mace_cache_section_new (s->n_keys, s->labels, s->values);
  g_free (o->values[2]);
  o->values[2] = g_strdup ("Other GPU");
  const char *keys[3] = { "other", "0123", "" };
  g_ptr_array_add (o->entries, mace_cache_entry_new (3, keys, "xyz", 3, 1));
  mace_cache_file_add_section (f, o);
  save_file (path, f);
  mace_cache_file_free (f);
  bool ok;
  MaceCacheStats st = run_cache (path, "rebuild", two, 2, &ok);
  CHECK (ok && st.programs_built == 2 && st.cache_hits == 0,
         "rebuild: built %" G_GINT64_FORMAT " hits %" G_GINT64_FORMAT,
         st.programs_built, st.cache_hits);
  CHECK (verify (path) == 0, "file does not verify");
  f = load_file (path, NULL);
  CHECK (find_prog (f, &prog_add)
             && find_prog (f, &prog_add)->written_us > old_written,
         "the entry was not rewritten");
  CHECK (f->sections->len == 2, "%u sections", f->sections->len);
  mace_cache_file_free (f);
  expect_warm (path);
  g_free (path);
}

static void
case_crash_marker (void)
{
  char *path = tmp_path ("mace-cl-compiled-program.bin");
  cold (path);
  /* A process that died while loading a binary: its marker stays. */
  int pipefd[2];
  CHECK (pipe (pipefd) == 0, "pipe");
  pid_t child = fork ();
  if (child == 0) {
    char *m = mace_cache_marker_begin (path);
    ssize_t w = write (pipefd[1], m ? m : "", m ? strlen (m) : 0);
    (void)w;
    _exit (0); /* "crashes" before mace_cache_marker_end */
  }
  close (pipefd[1]);
  char marker_buf[4096] = { 0 };
  ssize_t got = read (pipefd[0], marker_buf, sizeof marker_buf - 1);
  close (pipefd[0]);
  waitpid (child, NULL, 0);
  CHECK (got > 0 && exists (marker_buf), "the child wrote no marker");
  char *marker = g_strdup (marker_buf);
  /* A marker of a live process (ours) is not a crash. */
  char *live = g_strdup_printf ("%s.loading.%ld", path, (long)getpid ());
  spit (live, g_get_host_name (), strlen (g_get_host_name ()));
  CHECK (mace_cache_marker_crashed (path, NULL), "marker not seen");
  bool ok;
  MaceCacheStats st = run_cache (path, NULL, two, 2, &ok);
  char *aside = g_strconcat (path, ".crashed", NULL);
  CHECK (ok && st.programs_built == 2 && st.cache_hits == 0,
         "the crashed cache was used: hits %" G_GINT64_FORMAT, st.cache_hits);
  CHECK (logged ("crashed while loading", aside), "no warning naming %s",
         aside);
  CHECK (exists (aside), "the cache was not moved aside");
  CHECK (!exists (marker), "the dead marker is still there");
  CHECK (exists (live), "a live process's marker was removed");
  CHECK (exists (path) && verify (path) == 0, "no new verified file");
  g_unlink (live);
  expect_warm (path);
  CHECK (n_warnings == 0, "warnings after recovery");
  g_free (aside);
  g_free (live);
  g_free (marker);
  g_free (path);
}

/* Child of the concurrency case: its own OpenCL context, programs
 * "common" and "p<i>". */
static int
concurrent_child (const char *path, int i)
{
  if (!cl_setup ())
    return 3;
  char *src = g_strdup_printf ("__kernel void k%d (__global float *x) {\n"
                               "  x[get_global_id (0)] *= %d.0f;\n}\n",
                               i, i + 2);
  char *name = g_strdup_printf ("p%d", i);
  MaceError err = { 0 };
  MaceClProgramCache *c
      = mace_cl_program_cache_open (path, NULL, ctx, dev, &err);
  if (!c)
    return 4;
  int rc = 0;
  cl_program p
      = mace_cl_program_cache_get (c, "common", src_add, "-DOFFSET=1.0f", &err);
  if (!p)
    rc = 5;
  else
    clReleaseProgram (p);
  p = mace_cl_program_cache_get (c, name, src, "", &err);
  if (!p)
    rc = 6;
  else
    clReleaseProgram (p);
  if (mace_cl_program_cache_flush (c, &err) != MACE_OK) {
    fprintf (stderr, "child %d: flush: %s\n", i, err.message);
    rc = 7;
  }
  mace_cl_program_cache_close (c);
  cl_teardown ();
  g_free (src);
  g_free (name);
  return rc;
}

static void
case_concurrent (void)
{
  /* No OpenCL in the parent before fork: each child sets up its own. */
  enum { N = 8 };
  char *path = tmp_path ("mace-cl-compiled-program.bin");
  pid_t pids[N];
  for (int i = 0; i < N; i++) {
    pids[i] = fork ();
    if (pids[i] == 0)
      _exit (concurrent_child (path, i));
  }
  for (int i = 0; i < N; i++) {
    int status = 0;
    waitpid (pids[i], &status, 0);
    CHECK (WIFEXITED (status) && WEXITSTATUS (status) == 0,
           "child %d: status %d", i, status);
  }
  CHECK (verify (path) == 0, "final file does not verify");
  MaceCacheFile *f = load_file (path, NULL);
  CHECK (f->sections->len == 1, "%u sections", f->sections->len);
  CHECK (count_entries (f) == N + 1, "%d entries (want %d)", count_entries (f),
         N + 1);
  if (f->sections->len == 1) {
    MaceCacheSection *s = g_ptr_array_index (f->sections, 0);
    for (int i = 0; i < N; i++) {
      char *name = g_strdup_printf ("p%d", i);
      bool found = false;
      for (guint j = 0; j < s->entries->len; j++)
        found = found
                || strcmp (((MaceCacheEntry *)g_ptr_array_index (s->entries, j))
                               ->keys[0],
                           name)
                       == 0;
      CHECK (found, "program %s of child %d lost", name, i);
      g_free (name);
    }
  }
  mace_cache_file_free (f);
  char *marker = g_strconcat (path, ".loading.", NULL);
  GDir *d = g_dir_open (tmpdir, 0, NULL);
  const char *e;
  while (d && (e = g_dir_read_name (d)))
    CHECK (!g_str_has_prefix (e, "mace-cl-compiled-program.bin.loading")
               && !g_str_has_prefix (e, ".mace-cl"),
           "left behind: %s", e);
  if (d)
    g_dir_close (d);
  g_free (marker);
  g_free (path);
}

/* Runs poly on fixed inputs with a program; fills out[n]. */
static bool
run_poly (cl_program p, float *out, size_t n)
{
  float *in = g_new (float, n);
  for (size_t i = 0; i < n; i++)
    in[i] = (float)i / 37.0f - 13.0f;
  cl_int e;
  cl_kernel k = clCreateKernel (p, "poly", &e);
  cl_mem a = clCreateBuffer (ctx, CL_MEM_READ_ONLY | CL_MEM_COPY_HOST_PTR,
                             n * sizeof (float), in, &e);
  cl_mem b
      = clCreateBuffer (ctx, CL_MEM_WRITE_ONLY, n * sizeof (float), NULL, &e);
  clSetKernelArg (k, 0, sizeof a, &a);
  clSetKernelArg (k, 1, sizeof b, &b);
  e = clEnqueueNDRangeKernel (queue, k, 1, NULL, &n, NULL, 0, NULL, NULL);
  if (e == CL_SUCCESS)
    e = clEnqueueReadBuffer (queue, b, CL_TRUE, 0, n * sizeof (float), out, 0,
                             NULL, NULL);
  clReleaseMemObject (a);
  clReleaseMemObject (b);
  clReleaseKernel (k);
  g_free (in);
  return e == CL_SUCCESS;
}

static void
case_identical (void)
{
  enum { N = 1024 };
  char *path = tmp_path ("mace-cl-compiled-program.bin");
  float from_source[N], from_cache[N];
  MaceError err = { 0 };
  MaceCacheStats st = { 0 };
  MaceClProgramCache *c
      = mace_cl_program_cache_open (path, NULL, ctx, dev, &err);
  cl_program p = mace_cl_program_cache_get (c, "poly", src_poly, "", &err);
  CHECK (p && run_poly (p, from_source, N), "source build / run failed");
  clReleaseProgram (p);
  mace_cl_program_cache_close (c);

  c = mace_cl_program_cache_open (path, NULL, ctx, dev, &err);
  p = mace_cl_program_cache_get (c, "poly", src_poly, "", &err);
  mace_cl_program_cache_get_stats (c, &st);
  CHECK (st.cache_hits == 1 && st.programs_built == 0, "not from the cache");
  CHECK (p && run_poly (p, from_cache, N), "cached program run failed");
  clReleaseProgram (p);
  mace_cl_program_cache_close (c);
  CHECK (memcmp (from_source, from_cache, sizeof from_source) == 0,
         "outputs differ between the source build and the cached binary");
  g_free (path);
}

static void
case_build_error (void)
{
  char *path = tmp_path ("mace-cl-compiled-program.bin");
  MaceError err = { 0 };
  MaceClProgramCache *c
      = mace_cl_program_cache_open (path, NULL, ctx, dev, &err);
  cl_program p = mace_cl_program_cache_get (
      c, "broken", "__kernel void broken (void) { undeclared_thing = 1; }",
      NULL, &err);
  CHECK (!p && err.status == MACE_ERROR_BACKEND
             && strstr (err.message, "broken")
             && strstr (err.message, "undeclared_thing"),
         "no proper build error: '%s'", err.message);
  mace_cl_program_cache_close (c);
  CHECK (!exists (path), "a file was written for a failed build");
  g_free (path);
}

/* Runs mace_run_cmd_cache with stdout captured. */
static int
cli (const char *action, const char *path, char **output)
{
  char *out_path = tmp_path ("cli-output.txt");
  fflush (stdout);
  int saved = dup (1);
  int fd = open (out_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  dup2 (fd, 1);
  close (fd);
  char *argv[] = { (char *)"cache", (char *)action, (char *)path, NULL };
  int rc = mace_run_cmd_cache (path ? 3 : 2, argv);
  fflush (stdout);
  dup2 (saved, 1);
  close (saved);
  g_file_get_contents (out_path, output, NULL, NULL);
  g_unlink (out_path);
  g_free (out_path);
  return rc;
}

static void
case_cli (void)
{
  char *path = tmp_path ("mace-cl-compiled-program.bin");
  cold (path);
  char *out = NULL;
  int rc = cli ("dump", path, &out);
  CHECK (rc == 0, "dump exit %d", rc);
  CHECK (out && strstr (out, "program: add") && strstr (out, "program: poly")
             && strstr (out, "driver version: ")
             && strstr (out, "options: -DOFFSET=1.0f")
             && strstr (out, "format version: 1") && strstr (out, ": OK"),
         "dump output lacks keys:\n%s", out ? out : "");
  g_free (out);
  rc = cli ("verify", path, &out);
  CHECK (rc == 0 && strstr (out, "OK"), "verify good: %d %s", rc, out);
  g_free (out);

  GBytes *b = slurp (path);
  gsize n;
  uint8_t *d = dup_bytes (b, &n);
  d[n - 20] ^= 0x01;
  char *bad = tmp_path ("bad.bin");
  spit (bad, d, n);
  rc = cli ("verify", bad, &out);
  CHECK (rc != 0 && strstr (out, "checksum"), "verify flipped: %d %s", rc, out);
  g_free (out);
  rc = cli ("dump", bad, &out);
  CHECK (rc != 0 && strstr (out, "problem:") && strstr (out, "program: add"),
         "dump flipped: %d %s", rc, out);
  g_free (out);
  spit (bad, d, n / 2);
  rc = cli ("verify", bad, &out);
  CHECK (rc != 0 && strstr (out, "truncated"), "verify truncated: %d %s", rc,
         out);
  g_free (out);
  spit (bad, "garbage!garbage!", 16);
  rc = cli ("verify", bad, &out);
  CHECK (rc != 0, "verify garbage: %d", rc);
  g_free (out);
  char *none = tmp_path ("does-not-exist.bin");
  rc = cli ("verify", none, &out);
  CHECK (rc != 0, "verify of a missing file exits 0");
  g_free (out);
  rc = cli ("frobnicate", path, &out);
  CHECK (rc == 2, "unknown action: %d", rc);
  g_free (out);
  rc = cli ("dump", NULL, &out);
  CHECK (rc == 2, "missing file argument: %d", rc);
  g_free (out);
  g_free (none);
  g_free (bad);
  g_free (d);
  g_bytes_unref (b);
  g_free (path);
}

static void
case_tuning (void)
{
  char *path = tmp_path ("mace-cl-tuned-params.bin");
  MaceError err = { 0 };
  MaceClTuningCache *t = mace_cl_tuning_cache_open (path, NULL, dev, &err);
  CHECK (t != NULL, "open: %s", err.message);
  size_t lws[3] = { 0 };
  int variant = -1;
  CHECK (!mace_cl_tuning_cache_lookup (t, "conv2d 1x3x224x224", lws, &variant),
         "tuned before any store");
  const size_t a[3] = { 8, 4, 1 }, b[3] = { 64, 1, 1 };
  mace_cl_tuning_cache_store (t, "conv2d 1x3x224x224", a, 2);
  mace_cl_tuning_cache_store (t, "pool 1x16x56x56", b, 0);
  CHECK (mace_cl_tuning_cache_flush (t, &err) == MACE_OK, "flush: %s",
         err.message);
  mace_cl_tuning_cache_close (t);
  CHECK (verify (path) == 0, "tuning file does not verify");

  t = mace_cl_tuning_cache_open (path, NULL, dev, &err);
  CHECK (mace_cl_tuning_cache_lookup (t, "conv2d 1x3x224x224", lws, &variant)
             && lws[0] == 8 && lws[1] == 4 && lws[2] == 1 && variant == 2,
         "conv2d entry: %zu %zu %zu %d", lws[0], lws[1], lws[2], variant);
  CHECK (mace_cl_tuning_cache_lookup (t, "pool 1x16x56x56", lws, NULL)
             && lws[0] == 64,
         "pool entry");
  mace_cl_tuning_cache_close (t);

  /* Another process's result merges in; a program cache path is refused
   * as the wrong kind. */
  char *ppath = tmp_path ("mace-cl-compiled-program.bin");
  cold (ppath);
  logs_reset ();
  t = mace_cl_tuning_cache_open (ppath, "read-only", dev, &err);
  CHECK (logged ("not of tuned parameters", NULL), "wrong kind accepted");
  CHECK (!mace_cl_tuning_cache_lookup (t, "add", lws, NULL), "lookup");
  mace_cl_tuning_cache_close (t);

  MaceClTuningCache *t1 = mace_cl_tuning_cache_open (path, NULL, dev, &err);
  MaceClTuningCache *t2 = mace_cl_tuning_cache_open (path, NULL, dev, &err);
  const size_t c1[3] = { 16, 16, 1 };
  mace_cl_tuning_cache_store (t1, "gemm 64x64", c1, 1);
  mace_cl_tuning_cache_store (t2, "softmax 1000", b, 0);
  mace_cl_tuning_cache_close (t1);
  mace_cl_tuning_cache_close (t2);
  t = mace_cl_tuning_cache_open (path, "read-only", dev, &err);
  CHECK (mace_cl_tuning_cache_lookup (t, "gemm 64x64", lws, &variant)
             && lws[0] == 16 && variant == 1,
         "first writer's entry lost");
  CHECK (mace_cl_tuning_cache_lookup (t, "softmax 1000", lws, NULL),
         "second writer's entry lost");
  CHECK (mace_cl_tuning_cache_lookup (t, "conv2d 1x3x224x224", lws, NULL),
         "old entry lost");
  mace_cl_tuning_cache_close (t);

  /* Damage: dropped with a warning, the rest still used. */
  GBytes *bytes = slurp (path);
  gsize n;
  uint8_t *d = dup_bytes (bytes, &n);
  d[n - 3] ^= 0x40;
  spit (path, d, n);
  logs_reset ();
  t = mace_cl_tuning_cache_open (path, NULL, dev, &err);
  CHECK (n_warnings == 1 && logged ("checksum", path),
         "%d warnings on a damaged tuning file", n_warnings);
  int have = 0;
  have += mace_cl_tuning_cache_lookup (t, "gemm 64x64", lws, NULL);
  have += mace_cl_tuning_cache_lookup (t, "softmax 1000", lws, NULL);
  have += mace_cl_tuning_cache_lookup (t, "conv2d 1x3x224x224", lws, NULL);
  have += mace_cl_tuning_cache_lookup (t, "pool 1x16x56x56", lws, NULL);
  CHECK (have == 3, "%d entries survive one damaged entry (want 3)", have);
  mace_cl_tuning_cache_close (t);
  CHECK (verify (path) == 0, "damaged tuning file not rewritten");
  g_free (d);
  g_bytes_unref (bytes);
  g_free (ppath);
  g_free (path);
}

/* ---- Format cases (no OpenCL) ----------------------------------------- */

static MaceCacheFile *
make_file (int sections, int entries, size_t size)
{
  MaceCacheFile *f = mace_cache_file_new (MACE_CACHE_KIND_PROGRAMS);
  char *labels[7]
      = { "platform name",  "platform version", "device name",  "vendor id",
          "driver version", "OpenCL C version", "pointer width" };
  for (int s = 0; s < sections; s++) {
    char dn[32];
    snprintf (dn, sizeof dn, "Device %d", s);
    char *values[7]
        = { "P", "1.0", dn, "0x1234", "drv 1", "OpenCL C 1.2", "64" };
    MaceCacheSection *sec = mace_cache_section_new (7, labels, values);
    for (int e = 0; e < entries; e++) {
      char name[32];
      snprintf (name, sizeof name, "prog%d", e);
      const char *keys[3] = { name, "abcd", "-O2" };
      uint8_t *data = g_malloc (size);
      for (size_t i = 0; i < size; i++)
        data[i] = (uint8_t)(i + (size_t)e * 31 + (size_t)s);
      g_ptr_array_add (sec->entries, mace_cache_entry_new (3, keys, data, size,
                                                           1000 + s * 100 + e));
      g_free (data);
    }
    mace_cache_file_add_section (f, sec);
  }
  return f;
}

static void
case_format (void)
{
  /* Round trip. */
  MaceCacheFile *f = make_file (2, 3, 100);
  uint8_t *b;
  size_t n;
  mace_cache_file_serialize (f, &b, &n);
  int problems = -1;
  MaceCacheFile *g = mace_cache_file_parse (b, n, MACE_CACHE_KIND_PROGRAMS, "x",
                                            NULL, NULL, &problems);
  CHECK (problems == 0 && count_entries (g) == 6, "round trip");
  uint8_t *b2;
  size_t n2;
  mace_cache_file_serialize (g, &b2, &n2);
  CHECK (n == n2 && memcmp (b, b2, n) == 0, "round trip not identical");
  g_free (b2);
  mace_cache_file_free (g);

  /* Every truncation parses without crashing and keeps a prefix. */
  for (size_t cut = 0; cut < n; cut += 7) {
    g = mace_cache_file_parse (b, cut, MACE_CACHE_KIND_PROGRAMS, "x", NULL,
                               NULL, &problems);
    CHECK (problems > 0, "truncation at %zu not reported", cut);
    CHECK (count_entries (g) < 6, "truncation at %zu kept everything", cut);
    mace_cache_file_free (g);
  }
  /* A flipped data byte of entry 1 of section 0 drops that entry only. */
  size_t entry_size = mace_cache_entry_file_size (g_ptr_array_index (
      ((MaceCacheSection *)g_ptr_array_index (f->sections, 0))->entries, 0));
  size_t sec_header = 16 + 32;
  for (int k = 0; k < 7; k++)
    sec_header
        += 8
           + strlen (((MaceCacheSection *)g_ptr_array_index (f->sections, 0))
                         ->labels[k])
           + strlen (((MaceCacheSection *)g_ptr_array_index (f->sections, 0))
                         ->values[k]);
  size_t at
      = MACE_CACHE_HEADER_SIZE + sec_header + entry_size + entry_size - 10;
  b[at] ^= 1;
  g = mace_cache_file_parse (b, n, MACE_CACHE_KIND_PROGRAMS, "x", NULL, NULL,
                             &problems);
  CHECK (problems == 1 && count_entries (g) == 5,
         "flipped data: %d problems, %d entries", problems, count_entries (g));
  mace_cache_file_free (g);
  b[at] ^= 1;
  /* The same in the entry's header: from there on is dropped. */
  at = MACE_CACHE_HEADER_SIZE + sec_header + entry_size + 20;
  b[at] ^= 1;
  g = mace_cache_file_parse (b, n, MACE_CACHE_KIND_PROGRAMS, "x", NULL, NULL,
                             &problems);
  CHECK (problems == 1 && count_entries (g) == 1,
         "flipped entry header: %d problems, %d entries", problems,
         count_entries (g));
  mace_cache_file_free (g);
  b[at] ^= 1;
  g_free (b);

  /* Bound: least recently written go first. */
  g = make_file (1, 10, 1000);
  int dropped = mace_cache_file_bound (g, 6000);
  CHECK (dropped >= 4 && count_entries (g) == 10 - dropped, "bound dropped %d",
         dropped);
  MaceCacheSection *s = g_ptr_array_index (g->sections, 0);
  const char *k9[3] = { "prog9", "abcd", "-O2" };
  const char *k0[3] = { "prog0", "abcd", "-O2" };
  CHECK (mace_cache_section_find_entry (s, 3, k9) >= 0
             && mace_cache_section_find_entry (s, 3, k0) < 0,
         "bound kept the wrong entries");
  mace_cache_file_free (g);

  /* Merge: fresh supersedes same name+options; tombstones remove;
   * obsolete driver sections of the current device go; others stay. */
  MaceCacheFile *disk = make_file (2, 2, 10);
  MaceCacheFile *ours = make_file (1, 0, 0);
  MaceCacheSection *os = g_ptr_array_index (ours->sections, 0);
  g_free (os->values[4]);
  os->values[4] = g_strdup ("drv 2");
  os->current = true;
  const char *nk[3] = { "prog0", "ef01", "-O2" };
  MaceCacheEntry *fresh = mace_cache_entry_new (3, nk, "new", 3, 5000);
  fresh->fresh = true;
  g_ptr_array_add (os->entries, fresh);
  mace_cache_file_merge (disk, ours);
  CHECK (disk->sections->len == 2, "merge: %u sections", disk->sections->len);
  MaceCacheSection *d0 = mace_cache_file_find_section (disk, 7, os->values);
  CHECK (d0 && d0->entries->len == 1, "merge: our section");
  char *v1[7]
      = { "P", "1.0", "Device 1", "0x1234", "drv 1", "OpenCL C 1.2", "64" };
  MaceCacheSection *d1 = mace_cache_file_find_section (disk, 7, v1);
  CHECK (d1 && d1->entries->len == 2, "merge: other device kept");
  char *v0[7]
      = { "P", "1.0", "Device 0", "0x1234", "drv 1", "OpenCL C 1.2", "64" };
  CHECK (!mace_cache_file_find_section (disk, 7, v0),
         "merge: obsolete driver kept");
  mace_cache_file_free (ours);

  /* Same driver: a fresh entry with a new source hash supersedes; a
   * tombstone removes; an old loaded entry does not come back. */
  ours = make_file (1, 0, 0);
  os = g_ptr_array_index (ours->sections, 0);
  g_free (os->values[4]);
  os->values[4] = g_strdup ("drv 2");
  os->current = true;
  const char *nk2[3] = { "prog0", "9999", "-O2" };
  fresh = mace_cache_entry_new (3, nk2, "newer", 5, 6000);
  fresh->fresh = true;
  g_ptr_array_add (os->entries, fresh);
  mace_cache_file_merge (disk, ours);
  d0 = mace_cache_file_find_section (disk, 7, os->values);
  CHECK (d0 && d0->entries->len == 1
             && strcmp (((MaceCacheEntry *)g_ptr_array_index (d0->entries, 0))
                            ->keys[1],
                        "9999")
                    == 0,
         "merge: supersede by source hash");
  mace_cache_file_free (ours);
  mace_cache_file_free (disk);
  mace_cache_file_free (f);
}

static void
case_default_path (void)
{
  /* $XDG_CACHE_HOME/gst-mace/..., created on demand. */
  g_setenv ("XDG_CACHE_HOME", tmpdir, TRUE);
  char *want
      = g_build_filename (tmpdir, "gst-mace", MACE_CL_PROGRAM_CACHE_FILE, NULL);
  MaceError err = { 0 };
  MaceClProgramCache *c
      = mace_cl_program_cache_open (NULL, NULL, ctx, dev, &err);
  CHECK (c && strcmp (mace_cl_program_cache_path (c), want) == 0,
         "default path %s, want %s", c ? mace_cl_program_cache_path (c) : "-",
         want);
  cl_program p = mace_cl_program_cache_get (c, prog_add.name, prog_add.source,
                                            prog_add.options, &err);
  CHECK (p != NULL, "get: %s", err.message);
  if (p)
    clReleaseProgram (p);
  mace_cl_program_cache_close (c);
  CHECK (exists (want) && verify (want) == 0, "%s not written", want);
  g_free (want);
  /* Without it (or with a relative one, which XDG says to ignore):
   * ~/.cache/gst-mace/...  Mode off: nothing is written there. */
  g_setenv ("XDG_CACHE_HOME", "relative/dir", TRUE);
  want = g_build_filename (g_get_home_dir (), ".cache", "gst-mace",
                           MACE_CL_PROGRAM_CACHE_FILE, NULL);
  c = mace_cl_program_cache_open (NULL, "off", ctx, dev, &err);
  CHECK (c && strcmp (mace_cl_program_cache_path (c), want) == 0,
         "fallback path %s, want %s", c ? mace_cl_program_cache_path (c) : "-",
         want);
  mace_cl_program_cache_close (c);
  g_free (want);
  char *tune = mace_cache_default_path (MACE_CL_TUNING_CACHE_FILE);
  CHECK (g_str_has_suffix (tune, "/gst-mace/mace-cl-tuned-params.bin"),
         "tuning default %s", tune);
  g_free (tune);
}

/* Writes the seed corpus of tests/fuzz/fuzz_cache.c into $CORPUS_DIR (not a
 * registered test: `test_program_cache make-corpus`). */
static void
case_make_corpus (void)
{
  const char *dir = g_getenv ("CORPUS_DIR");
  if (!dir) {
    fprintf (stderr, "set CORPUS_DIR\n");
    failures++;
    return;
  }
  g_mkdir_with_parents (dir, 0755);
  uint8_t *b;
  size_t n;
  char *p;
  MaceCacheFile *f = make_file (2, 2, 24);
  mace_cache_file_serialize (f, &b, &n);
  p = g_build_filename (dir, "programs-2x2.bin", NULL);
  spit (p, b, n);
  g_free (p);
  /* The same, format version 2. */
  b[8] = 2;
  p = g_build_filename (dir, "programs-version2.bin", NULL);
  spit (p, b, n);
  g_free (p);
  g_free (b);
  mace_cache_file_free (f);
  f = make_file (0, 0, 0);
  mace_cache_file_serialize (f, &b, &n);
  p = g_build_filename (dir, "empty-cache.bin", NULL);
  spit (p, b, n);
  g_free (p);
  g_free (b);
  mace_cache_file_free (f);
  f = make_file (1, 3, 28);
  f->kind = MACE_CACHE_KIND_TUNING;
  MaceCacheSection *s = g_ptr_array_index (f->sections, 0);
  for (guint i = 0; i < s->entries->len; i++) {
    MaceCacheEntry *e = g_ptr_array_index (s->entries, i);
    g_free (e->keys[1]);
    g_free (e->keys[2]);
    e->n_keys = 1;
  }
  mace_cache_file_serialize (f, &b, &n);
  p = g_build_filename (dir, "tuning-1x3.bin", NULL);
  spit (p, b, n);
  g_free (p);
  g_free (b);
  mace_cache_file_free (f);
}

/* ---- Main ------------------------------------------------------------- */

typedef struct {
  const char *name;
  void (*func) (void);
  bool needs_cl;
  bool forks_cl; /* sets OpenCL up in children only */
} Case;

static const Case cases[] = {
  { "format", case_format, false, false },
  { "missing", case_missing, true, false },
  { "warm", case_warm, true, false },
  { "stale-driver", case_stale_driver, true, false },
  { "stale-source", case_stale_source, true, false },
  { "truncated", case_truncated, true, false },
  { "flipped", case_flipped, true, false },
  { "garbage", case_garbage, true, false },
  { "empty", case_empty, true, false },
  { "version", case_version, true, false },
  { "driver-reject", case_driver_reject, true, false },
  { "unwritable", case_unwritable, true, false },
  { "read-only", case_read_only, true, false },
  { "base", case_base, true, false },
  { "off", case_off, true, false },
  { "rebuild", case_rebuild, true, false },
  { "crash-marker", case_crash_marker, true, false },
  { "concurrent", case_concurrent, true, true },
  { "identical", case_identical, true, false },
  { "build-error", case_build_error, true, false },
  { "cli", case_cli, true, false },
  { "tuning", case_tuning, true, false },
  { "default-path", case_default_path, true, false },
  { "make-corpus", case_make_corpus, false, false },
};

/* Whether an OpenCL device exists, asked in a child so that the parent
 * stays free of OpenCL state before it forks. */
static bool
have_cl_device (void)
{
  pid_t pid = fork ();
  if (pid == 0)
    _exit (cl_setup () ? 0 : 1);
  int status = 0;
  waitpid (pid, &status, 0);
  return WIFEXITED (status) && WEXITSTATUS (status) == 0;
}

int
main (int argc, char **argv)
{
  if (argc != 2) {
    fprintf (stderr, "usage: %s CASE\ncases:", argv[0]);
    for (size_t i = 0; i < G_N_ELEMENTS (cases); i++)
      fprintf (stderr, " %s", cases[i].name);
    fputc ('\n', stderr);
    return 2;
  }
  const Case *c = NULL;
  for (size_t i = 0; i < G_N_ELEMENTS (cases); i++)
    if (strcmp (cases[i].name, argv[1]) == 0)
      c = &cases[i];
  if (!c) {
    fprintf (stderr, "unknown case %s\n", argv[1]);
    return 2;
  }
  case_name = c->name;
  logs = g_ptr_array_new_with_free_func (g_free);
  mace_set_log_callback (capture_log, NULL);
  mace_set_log_level (MACE_LOG_DEBUG);
  if (c->needs_cl) {
    if (c->forks_cl ? !have_cl_device () : !cl_setup ()) {
      printf ("SKIP: no OpenCL platform/device\n");
      return 77;
    }
  }
  tmpdir = g_dir_make_tmp ("mace-cache-test-XXXXXX", NULL);
  if (!tmpdir) {
    fprintf (stderr, "cannot make a temporary directory\n");
    return 1;
  }
  c->func ();
  cl_teardown ();
  if (failures == 0)
    rm_rf (tmpdir);
  else
    fprintf (stderr, "[%s] %d failure(s); files kept in %s\n", c->name,
             failures, tmpdir);
  g_free (tmpdir);
  g_ptr_array_unref (logs);
  return failures ? 1 : 0;
}
