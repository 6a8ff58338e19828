/* SPDX-License-Identifier: Apache-2.0
 * The OpenCL backend's launch-saving plans (depthwise + 1x1 in one kernel,
 * Transpose and MaxPool folds; src/cl/backend.c choose_folds): each graph
 * from make_fold_graphs.py runs on OpenCL (optimised, no CPU fallback)
 * and unoptimised on the CPU on the same seeded random input.  Outputs
 * must agree (relative L2 <= 1e-5) and the plan must reach the launch
 * count in the graph's .expect file; then again with MACE_CL_FOLD=0 and
 * MACE_FUSE_DW_PW=0, which must give the same outputs with more launches
 * (except for the graph where nothing can be folded).  Exit 77 without
 * an OpenCL device.
 *
 * usage: test_cl_folds GRAPH_DIR */
#define CL_TARGET_OPENCL_VERSION 120
#include <CL/cl.h>
#include <stdlib.h>
#include <string.h>

#include <glib.h>

#include "harness.h"

static char *program_cache;

static MaceEngine *
run (const char *path, MaceBackendType backend, int optimize,
     MaceTensor *const *in, int n_in)
{
  MaceConfig *c = mace_config_new ();
  mace_config_set_backend (c, backend);
  mace_config_set_optimize (c, optimize);
  mace_config_set_allow_fallback (c, 0);
  if (backend == MACE_BACKEND_OPENCL)
    mace_config_set_program_cache (c, program_cache, "read-write");
  MaceError err = { 0 };
  MaceEngine *e = mace_engine_load_file (path, c, &err);
  mace_config_free (c);
  if (!e) {
    th_fail (path, "load (backend %d): %s", (int)backend, err.message);
    return NULL;
  }
  for (int i = 0; i < n_in; i++)
    if (mace_engine_set_input (e, i, in[i]) != MACE_OK) {
      th_fail (path, "set_input: %s", mace_engine_last_error (e));
      mace_engine_free (e);
      return NULL;
    }
  if (mace_engine_run (e) != MACE_OK) {
    th_fail (path, "run (backend %d): %s", (int)backend,
             mace_engine_last_error (e));
    mace_engine_free (e);
    return NULL;
  }
  return e;
}

/* Compares every output of cl with ref; returns cl's launches per run. */
static int64_t
compare (const char *path, const char *what, MaceEngine *cl, MaceEngine *ref)
{
  for (int o = 0; o < mace_engine_num_outputs (ref); o++) {
    double rel = th_rel_l2 (mace_engine_get_output (cl, o),
                            mace_engine_get_output (ref, o));
    if (!(rel <= 1e-5))
      th_fail (path, "%s: output %d: OpenCL vs CPU relative L2 %.3g > 1e-5",
               what, o, rel);
    else
      printf ("%s %s: output %d relative L2 %.3g\n", path, what, o, rel);
  }
  MaceCacheStats s;
  mace_engine_get_cache_stats (cl, &s);
  if (s.nodes_on_cpu)
    th_fail (path, "%s: %lld nodes on the CPU", what,
             (long long)s.nodes_on_cpu);
  return s.launches_per_run;
}

static void
check_graph (const char *path, int expect, bool foldable)
{
  MaceConfig *c = mace_config_new ();
  MaceError err = { 0 };
  MaceEngine *info = mace_engine_load_file (path, c, &err);
  mace_config_free (c);
  if (!info) {
    th_fail (path, "load: %s", err.message);
    return;
  }
  int n = mace_engine_num_inputs (info);
  MaceTensor **in = g_new0 (MaceTensor *, n + 1);
  for (int i = 0; i < n; i++) {
    MaceDataType dt;
    int64_t dims[MACE_MAX_DIMS];
    int nd = mace_engine_input_info (info, i, &dt, dims);
    in[i] = mace_tensor_new (dt, nd, dims);
    th_fill_uniform (in[i], -1.0f, 1.0f);
  }
  mace_engine_free (info);
  MaceEngine *ref = run (path, MACE_BACKEND_CPU, 0, in, n);
  MaceEngine *cl = ref ? run (path, MACE_BACKEND_OPENCL, 1, in, n) : NULL;
  if (cl) {
    int64_t launches = compare (path, "folded", cl, ref);
    printf ("%s: %lld launches per run (want %d)\n", path, (long long)launches,
            expect);
    if (launches != expect)
      th_fail (path, "%lld launches per run, want %d", (long long)launches,
               expect);
    g_setenv ("MACE_CL_FOLD", "0", TRUE);
    g_setenv ("MACE_FUSE_DW_PW", "0", TRUE);
    MaceEngine *plain = run (path, MACE_BACKEND_OPENCL, 1, in, n);
    g_unsetenv ("MACE_CL_FOLD");
    g_unsetenv ("MACE_FUSE_DW_PW");
    if (plain) {
      int64_t unfolded = compare (path, "unfolded", plain, ref);
      printf ("%s: %lld launches per run without folds\n", path,
              (long long)unfolded);
      if (foldable ? unfolded <= launches : unfolded != launches)
        th_fail (path, "%lld launches without folds, %lld with them",
                 (long long)unfolded, (long long)launches);
    }
    mace_engine_free (plain);
  }
  mace_engine_free (cl);
  mace_engine_free (ref);
  for (int i = 0; i < n; i++)
    mace_tensor_free (in[i]);
  g_free (in);
}

static bool
have_device (void)
{
  cl_uint n = 0;
  return clGetPlatformIDs (0, NULL, &n) == CL_SUCCESS && n > 0;
}

int
main (int argc, char **argv)
{
  th_init (argc, argv);
  if (argc < 2) {
    fprintf (stderr, "usage: test_cl_folds GRAPH_DIR\n");
    return 2;
  }
  if (!have_device ()) {
    printf ("no OpenCL device: skipped\n");
    return 77;
  }
  const char *build = getenv ("MACE_BUILD_ROOT");
  program_cache = g_build_filename (build ? build : ".", "tests",
                                    "cl-test-programs.bin", NULL);
  GDir *d = g_dir_open (argv[1], 0, NULL);
  if (!d) {
    fprintf (stderr, "cannot open %s\n", argv[1]);
    return 1;
  }
  const char *name;
  int count = 0;
  while ((name = g_dir_read_name (d))) {
    if (!g_str_has_suffix (name, ".onnx"))
      continue;
    char *path = g_build_filename (argv[1], name, NULL);
    char *exp = g_strdup_printf ("%.*s.expect", (int)strlen (path) - 5, path);
    gchar *txt = NULL;
    if (!g_file_get_contents (exp, &txt, NULL, NULL))
      th_fail (path, "no %s", exp);
    else
      check_graph (path, atoi (txt), !g_str_has_prefix (name, "no_fold"));
    count++;
    g_free (txt);
    g_free (exp);
    g_free (path);
  }
  g_dir_close (d);
  if (count == 0)
    th_fail ("cl-folds", "no graphs in %s", argv[1]);
  g_free (program_cache);
  return th_finish ();
}
