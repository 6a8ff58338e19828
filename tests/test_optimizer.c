/* SPDX-License-Identifier: Apache-2.0
 * Optimiser tests: each graph from tests/optimizer/make_graphs.py (and the
 * real models when fetched) runs with and without the passes on the same
 * seeded random input; outputs must agree and the optimised graph must
 * reach the node count its .expect file states.
 *
 * usage: test_optimizer GRAPH_DIR [MODEL...] */
#include <math.h>
#include <string.h>

#include <glib.h>

#include "harness.h"

static MaceEngine *
load (const char *path, int optimize, const MaceTensor *const *inputs, int n)
{
  MaceConfig *c = mace_config_new ();
  mace_config_set_optimize (c, optimize);
  mace_config_set_threads (c, 2);
  MaceError err = { 0 };
  MaceEngine *e = mace_engine_load_file (path, c, &err);
  mace_config_free (c);
  if (!e) {
    th_fail (path, "load (optimize=%d): %s", optimize, err.message);
    return NULL;
  }
  for (int i = 0; i < n; i++)
    if (mace_engine_set_input (e, i, inputs[i]) != MACE_OK) {
      th_fail (path, "set_input: %s", mace_engine_last_error (e));
      mace_engine_free (e);
      return NULL;
    }
  if (mace_engine_run (e) != MACE_OK) {
    th_fail (path, "run (optimize=%d): %s", optimize,
             mace_engine_last_error (e));
    mace_engine_free (e);
    return NULL;
  }
  return e;
}

static void
check_model (const char *path, int expect_nodes)
{
  /* Random inputs of the declared shapes; dynamic dims become 16. */
  MaceError err = { 0 };
  MaceConfig *c = mace_config_new ();
  MaceEngine *probe = mace_engine_load_file (path, c, &err);
  if (!probe) {
    /* Dynamic inputs are only prepared at the first run; retry with
     * shapes fixed. */
    th_fail (path, "load: %s", err.message);
    mace_config_free (c);
    return;
  }
  int n = mace_engine_num_inputs (probe);
  MaceTensor **in = g_new0 (MaceTensor *, n + 1);
  for (int i = 0; i < n; i++) {
    MaceDataType dt;
    int64_t dims[MACE_MAX_DIMS];
    int nd = mace_engine_input_info (probe, i, &dt, dims);
    for (int d = 0; d < nd; d++)
      if (dims[d] < 0)
        dims[d] = 16;
    in[i] = mace_tensor_new (dt, nd, dims);
    th_fill_uniform (in[i], -1.0f, 1.0f);
  }
  mace_engine_free (probe);
  mace_config_free (c);

  MaceEngine *a = load (path, 1, (const MaceTensor *const *)in, n);
  MaceEngine *b = load (path, 0, (const MaceTensor *const *)in, n);
  if (a && b) {
    for (int o = 0; o < mace_engine_num_outputs (a); o++) {
      const MaceTensor *x = mace_engine_get_output (a, o);
      const MaceTensor *y = mace_engine_get_output (b, o);
      double rel = th_rel_l2 (x, y);
      if (!(rel <= 1e-5))
        th_fail (path, "output %d: fused vs unfused relative L2 %.3g > 1e-5", o,
                 rel);
      else
        printf ("%s output %d: relative L2 %.3g\n", path, o, rel);
    }
    MaceModelInfo ia, ib;
    mace_engine_get_info (a, &ia);
    mace_engine_get_info (b, &ib);
    printf ("%s: %lld nodes in the file, %lld unoptimised, %lld optimised, "
            "peak %lld bytes\n",
            path, (long long)ia.num_nodes_original, (long long)ib.num_nodes,
            (long long)ia.num_nodes, (long long)ia.planned_peak_bytes);
    if (expect_nodes >= 0 && ia.num_nodes != expect_nodes)
      th_fail (path, "optimised graph has %lld nodes, want %d",
               (long long)ia.num_nodes, expect_nodes);
    if (expect_nodes < 0 && ia.num_nodes >= ib.num_nodes)
      th_fail (path, "optimisation removed no node (%lld)",
               (long long)ia.num_nodes);
  }
  mace_engine_free (a);
  mace_engine_free (b);
  for (int i = 0; i < n; i++)
    mace_tensor_free (in[i]);
  g_free (in);
}

int
main (int argc, char **argv)
{
  th_init (argc, argv);
  if (argc < 2) {
    fprintf (stderr, "usage: test_optimizer GRAPH_DIR [MODEL...]\n");
    return 2;
  }
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
    char *stem = g_strndup (path, strlen (path) - 5);
    char *exp = g_strdup_printf ("%s.expect", stem);
    gchar *txt = NULL;
    int expect = -1;
    if (g_file_get_contents (exp, &txt, NULL, NULL))
      expect = atoi (txt);
    check_model (path, expect);
    count++;
    g_free (txt);
    g_free (exp);
    g_free (stem);
    g_free (path);
  }
  g_dir_close (d);
  if (count == 0)
    th_fail ("optimizer", "no graphs in %s", argv[1]);
  for (int i = 2; i < argc; i++) {
    if (!g_file_test (argv[i], G_FILE_TEST_EXISTS)) {
      printf ("%s: not fetched, skipped (run models/fetch)\n", argv[i]);
      continue;
    }
    check_model (argv[i], -1);
  }
  return th_finish ();
}
