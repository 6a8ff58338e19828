/* SPDX-License-Identifier: Apache-2.0
 * mace-run conformance: runs ONNX node tests (model.onnx plus
 * test_data_set_N/{input,output}_K.pb) and compares with the expected
 * outputs.  Each test runs in a child process so a crash is one failure,
 * not the end of the run.  Tolerances are ONNX's backend-test defaults:
 * |got - want| <= atol + rtol * |want| with rtol 1e-3, atol 1e-7 for
 * floating point, exact for integers and bool. */
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <glib.h>

#include "commands.h"
#include "internal.h"

enum { RES_PASS = 0, RES_FAIL = 1, RES_SKIP = 2 };

static bool
is_float (MaceDataType t)
{
  return t == MACE_DTYPE_FLOAT32 || t == MACE_DTYPE_FLOAT64
         || t == MACE_DTYPE_FLOAT16 || t == MACE_DTYPE_BFLOAT16;
}

/* Returns NULL when equal within tolerance, else a g_malloc'ed reason. */
static char *
compare (const MaceTensor *got, const MaceTensor *want, double rtol,
         double atol)
{
  char a[128], b[128];
  if (got->dtype != want->dtype)
    return g_strdup_printf ("type %s, want %s", mace_dtype_name (got->dtype),
                            mace_dtype_name (want->dtype));
  if (!mace_shape_equal (got->ndim, got->dims, want->ndim, want->dims))
    return g_strdup_printf (
        "shape %s, want %s", mace_shape_str (got->ndim, got->dims, a, sizeof a),
        mace_shape_str (want->ndim, want->dims, b, sizeof b));
  int64_t n = mace_tensor_numel (want);
  if (!is_float (want->dtype)) {
    size_t es = mace_dtype_size (want->dtype);
    for (int64_t i = 0; i < n; i++)
      if (memcmp ((const uint8_t *)got->data + i * es,
                  (const uint8_t *)want->data + i * es, es)
          != 0)
        return g_strdup_printf ("element %lld: got %lld, want %lld",
                                (long long)i,
                                (long long)mace_tensor_get_i64 (got, i),
                                (long long)mace_tensor_get_i64 (want, i));
    return NULL;
  }
  for (int64_t i = 0; i < n; i++) {
    double g = mace_tensor_get_f64 (got, i), w = mace_tensor_get_f64 (want, i);
    if (isnan (w) && isnan (g))
      continue;
    if (isinf (w) && g == w)
      continue;
    if (!(fabs (g - w) <= atol + rtol * fabs (w)))
      return g_strdup_printf ("element %lld: got %.9g, want %.9g", (long long)i,
                              g, w);
  }
  return NULL;
}

/* ONNX's test data stores bfloat16 tensors as uint16 bit patterns. */
static void
bf16_quirk (MaceTensor *t, MaceDataType wanted)
{
  if (t->dtype == MACE_DTYPE_UINT16 && wanted == MACE_DTYPE_BFLOAT16)
    t->dtype = MACE_DTYPE_BFLOAT16;
}

static int
count_files (const char *dir, const char *prefix)
{
  int n = 0;
  for (;;) {
    char *p = g_strdup_printf ("%s/%s_%d.pb", dir, prefix, n);
    bool ok = g_file_test (p, G_FILE_TEST_EXISTS);
    g_free (p);
    if (!ok)
      return n;
    n++;
  }
}

/* Runs one test directory in this process.  Writes a one-line reason to
 * `out` and returns RES_*. */
static int
run_test (const char *dir, const MaceConfig *config, FILE *out)
{
  char *model = g_build_filename (dir, "model.onnx", NULL);
  MaceError err = { 0 };
  MaceEngine *e = mace_engine_load_file (model, config, &err);
  g_free (model);
  if (!e) {
    fprintf (out, "%s", err.message);
    return err.status == MACE_ERROR_UNSUPPORTED ? RES_SKIP : RES_FAIL;
  }
  int result = RES_PASS;
  GDir *d = g_dir_open (dir, 0, NULL);
  GPtrArray *sets = g_ptr_array_new_with_free_func (g_free);
  const char *name;
  while (d && (name = g_dir_read_name (d)))
    if (g_str_has_prefix (name, "test_data_set_"))
      g_ptr_array_add (sets, g_build_filename (dir, name, NULL));
  if (d)
    g_dir_close (d);
  if (sets->len == 0) {
    fprintf (out, "no test_data_set_* directory");
    result = RES_FAIL;
  }
  for (guint s = 0; s < sets->len && result == RES_PASS; s++) {
    const char *set = sets->pdata[s];
    int n_in = count_files (set, "input");
    int n_out = count_files (set, "output");
    if (n_in > mace_engine_num_inputs (e)) {
      fprintf (out, "%d input files but the model has %d inputs", n_in,
               mace_engine_num_inputs (e));
      result = RES_FAIL;
      break;
    }
    for (int i = 0; i < n_in && result == RES_PASS; i++) {
      MaceDataType want_dt = MACE_DTYPE_UNDEFINED;
      char *p = g_strdup_printf ("%s/input_%d.pb", set, i);
      MaceTensor *t = NULL;
      if (mace_tensor_load_pb (p, &t, NULL, &err) != MACE_OK) {
        fprintf (out, "%s", err.message);
        result = err.status == MACE_ERROR_UNSUPPORTED ? RES_SKIP : RES_FAIL;
      } else if (bf16_quirk (t,
                             mace_engine_input_info (e, i, &want_dt, NULL) >= -1
                                 ? want_dt
                                 : MACE_DTYPE_UNDEFINED),
                 mace_engine_set_input (e, i, t) != MACE_OK) {
        /* A few of ONNX 1.12's test sets contradict their own model's
         * declared input shape (castlike bfloat16): that is bad test
         * data, not a wrong answer. */
        fprintf (out, "test data inconsistent with the model: %s",
                 mace_engine_last_error (e));
        result = strstr (mace_engine_last_error (e), "wants shape") ? RES_SKIP
                                                                    : RES_FAIL;
      }
      mace_tensor_free (t);
      g_free (p);
    }
    if (result != RES_PASS)
      break;
    MaceStatus st = mace_engine_run (e);
    if (st != MACE_OK) {
      fprintf (out, "%s", mace_engine_last_error (e));
      /* Support decided at the first run (dynamic shapes) is a skip. */
      result = st == MACE_ERROR_UNSUPPORTED ? RES_SKIP : RES_FAIL;
      break;
    }
    for (int i = 0; i < n_out && result == RES_PASS; i++) {
      char *p = g_strdup_printf ("%s/output_%d.pb", set, i);
      MaceTensor *want = NULL;
      if (mace_tensor_load_pb (p, &want, NULL, &err) != MACE_OK) {
        fprintf (out, "%s", err.message);
        result = err.status == MACE_ERROR_UNSUPPORTED ? RES_SKIP : RES_FAIL;
      } else {
        const MaceTensor *got = mace_engine_get_output (e, i);
        if (got)
          bf16_quirk (want, got->dtype);
        char *why = got ? compare (got, want, 1e-3, 1e-7)
                        : g_strdup ("output missing");
        if (why) {
          fprintf (out, "%s output %d (%s): %s", set + strlen (dir) + 1, i,
                   mace_engine_output_name (e, i), why);
          g_free (why);
          result = RES_FAIL;
        }
      }
      mace_tensor_free (want);
      g_free (p);
    }
  }
  g_ptr_array_free (sets, TRUE);
  mace_engine_free (e);
  return result;
}

static gint cmp_paths (gconstpointer a, gconstpointer b);

static void
collect (const char *path, GPtrArray *tests)
{
  char *model = g_build_filename (path, "model.onnx", NULL);
  bool is_test = g_file_test (model, G_FILE_TEST_EXISTS);
  g_free (model);
  if (is_test) {
    g_ptr_array_add (tests, g_strdup (path));
    return;
  }
  GDir *d = g_dir_open (path, 0, NULL);
  if (!d)
    return;
  GPtrArray *subs = g_ptr_array_new_with_free_func (g_free);
  const char *name;
  while ((name = g_dir_read_name (d))) {
    char *p = g_build_filename (path, name, NULL);
    if (g_file_test (p, G_FILE_TEST_IS_DIR))
      g_ptr_array_add (subs, p);
    else
      g_free (p);
  }
  g_dir_close (d);
  g_ptr_array_sort (subs, cmp_paths);
  for (guint i = 0; i < subs->len; i++)
    collect (subs->pdata[i], tests);
  g_ptr_array_free (subs, TRUE);
}

static gint
cmp_paths (gconstpointer a, gconstpointer b)
{
  return strcmp (*(char *const *)a, *(char *const *)b);
}

int
mace_run_cmd_conformance (MaceRunOptions *o)
{
  if (o->positional->len == 0) {
    fprintf (stderr, "usage: mace-run conformance [--device cpu|cl] "
                     "[--no-fallback] DIR...\n");
    return 2;
  }
  char *msg = NULL;
  MaceConfig *config = mace_run_make_config (o, &msg);
  if (!config) {
    fprintf (stderr, "mace-run: %s\n", msg);
    g_free (msg);
    return 2;
  }
  /* Quiet library warnings: results are reported per test. */
  if (!o->verbose)
    mace_set_log_level (MACE_LOG_ERROR);
  GPtrArray *tests = g_ptr_array_new_with_free_func (g_free);
  for (guint i = 0; i < o->positional->len; i++) {
    const char *p = o->positional->pdata[i];
    if (!g_file_test (p, G_FILE_TEST_IS_DIR)) {
      fprintf (stderr, "mace-run: %s: not a directory\n", p);
      g_ptr_array_free (tests, TRUE);
      mace_config_free (config);
      return 2;
    }
    collect (p, tests);
  }
  g_ptr_array_sort (tests, cmp_paths);
  int passed = 0, failed = 0, skipped = 0;
  fflush (stdout);
  for (guint i = 0; i < tests->len; i++) {
    const char *dir = tests->pdata[i];
    char *base = g_path_get_basename (dir);
    char reason[2048] = "";
    int res;
    FILE *tmp = tmpfile ();
    pid_t pid = tmp ? fork () : -1;
    if (pid == 0) {
      alarm (120); /* a hung test fails instead of hanging the run */
      int r = run_test (dir, config, tmp);
      fflush (tmp);
      _exit (r);
    }
    if (pid < 0) {
      /* No fork: run in-process. */
      FILE *mem = tmp ? tmp : stderr;
      res = run_test (dir, config, mem);
    } else {
      int status = 0;
      waitpid (pid, &status, 0);
      if (WIFEXITED (status))
        res = WEXITSTATUS (status);
      else {
        res = RES_FAIL;
        snprintf (reason, sizeof reason, "crashed (signal %d)",
                  WIFSIGNALED (status) ? WTERMSIG (status) : -1);
      }
    }
    if (tmp && !reason[0]) {
      rewind (tmp);
      size_t n = fread (reason, 1, sizeof reason - 1, tmp);
      reason[n] = '\0';
    }
    if (tmp)
      fclose (tmp);
    if (res == RES_PASS) {
      passed++;
      if (o->verbose)
        printf ("PASS %s\n", base);
    } else if (res == RES_SKIP) {
      skipped++;
      if (o->verbose)
        printf ("SKIP %s: %s\n", base, reason);
    } else {
      failed++;
      printf ("FAIL %s: %s\n", base, reason);
    }
    fflush (stdout);
    g_free (base);
  }
  if (o->json)
    printf ("{\"passed\": %d, \"failed\": %d, \"skipped\": %d}\n", passed,
            failed, skipped);
  printf ("%d passed, %d failed, %d skipped\n", passed, failed, skipped);
  g_ptr_array_free (tests, TRUE);
  mace_config_free (config);
  return failed ? 1 : 0;
}
