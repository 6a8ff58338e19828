/* SPDX-License-Identifier: Apache-2.0
 * mace-run: the command-line front end of libmace.
 *
 *   mace-run info MODEL
 *   mace-run run MODEL [--inputs DIR | --input NAME=FILE.pb ...] --output-dir
 * DIR mace-run bench MODEL --runs N --warmup K [--threads T] [--json] mace-run
 * compile MODEL --device cl --program-cache FILE [--tune] mace-run cache dump
 * FILE | cache verify FILE mace-run conformance [--device D] [--no-fallback]
 * DIR...
 */
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <glib.h>

#include "commands.h"
#include "mace.h"

static void
usage (FILE *f)
{
  fprintf (f,
           "usage: mace-run COMMAND [OPTIONS]\n"
           "commands:\n"
           "  info MODEL                     inputs, outputs, ops, parameters, "
           "peak memory\n"
           "  run MODEL [--inputs DIR | --input NAME=FILE.pb ...] --output-dir "
           "DIR\n"
           "  bench MODEL [--runs N] [--warmup K] [--input NAME=FILE.pb] "
           "[--shape NAME=AxBxC]\n"
           "  compile MODEL --device cl [--program-cache FILE] [--tune "
           "--tuning-cache FILE]\n"
           "  cache dump FILE | cache verify FILE\n"
           "  conformance [--no-fallback] DIR...\n"
           "common options:\n"
           "  --device cpu|cl      backend (default cpu)\n"
           "  --cl-device I|NAME   OpenCL device by index or name substring\n"
           "  --threads N          CPU threads (default: all cores)\n"
           "  --program-cache FILE compiled-program cache path\n"
           "  --program-cache-mode read-write|read-only|off|rebuild\n"
           "  --program-cache-base FILE  read-only cache under it (shipped)\n"
           "  --tuning-cache FILE  tuned work-group sizes\n"
           "  --no-optimize        skip fusion passes\n"
           "  --no-fallback        fail instead of running nodes on the CPU\n"
           "  --seed N             seed of random inputs (default 1)\n"
           "  --json               machine-readable output\n");
}

MaceRunOptions *
mace_run_options_parse (int argc, char **argv, int first, char **error)
{
  MaceRunOptions *o = g_new0 (MaceRunOptions, 1);
  o->runs = 50;
  o->warmup = 5;
  o->seed = 1;
  o->input_names = g_ptr_array_new_with_free_func (g_free);
  o->input_files = g_ptr_array_new_with_free_func (g_free);
  o->shape_names = g_ptr_array_new_with_free_func (g_free);
  o->shape_specs = g_ptr_array_new_with_free_func (g_free);
  o->positional = g_ptr_array_new_with_free_func (g_free);
  for (int i = first; i < argc; i++) {
    const char *a = argv[i];
#define NEED_VALUE()                                                           \
  do {                                                                         \
    if (i + 1 >= argc) {                                                       \
      *error = g_strdup_printf ("option %s needs a value", a);                 \
      goto fail;                                                               \
    }                                                                          \
  } while (0)
    if (strcmp (a, "--device") == 0) {
      NEED_VALUE ();
      g_free (o->device);
      o->device = g_strdup (argv[++i]);
      if (strcmp (o->device, "cpu") != 0 && strcmp (o->device, "cl") != 0
          && strcmp (o->device, "gpu") != 0) {
        *error = g_strdup_printf ("--device must be cpu or cl, not '%s'",
                                  o->device);
        goto fail;
      }
    } else if (strcmp (a, "--cl-device") == 0) {
      NEED_VALUE ();
      o->cl_device = g_strdup (argv[++i]);
    } else if (strcmp (a, "--threads") == 0) {
      NEED_VALUE ();
      o->threads = atoi (argv[++i]);
    } else if (strcmp (a, "--runs") == 0) {
      NEED_VALUE ();
      o->runs = atoi (argv[++i]);
    } else if (strcmp (a, "--warmup") == 0) {
      NEED_VALUE ();
      o->warmup = atoi (argv[++i]);
    } else if (strcmp (a, "--seed") == 0) {
      NEED_VALUE ();
      o->seed = strtoull (argv[++i], NULL, 0);
    } else if (strcmp (a, "--program-cache") == 0) {
      NEED_VALUE ();
      o->program_cache = g_strdup (argv[++i]);
    } else if (strcmp (a, "--program-cache-base") == 0) {
      NEED_VALUE ();
      o->program_cache_base = g_strdup (argv[++i]);
    } else if (strcmp (a, "--program-cache-mode") == 0) {
      NEED_VALUE ();
      o->program_cache_mode = g_strdup (argv[++i]);
    } else if (strcmp (a, "--tuning-cache") == 0) {
      NEED_VALUE ();
      o->tuning_cache = g_strdup (argv[++i]);
    } else if (strcmp (a, "--tune") == 0) {
      o->tune = 1;
    } else if (strcmp (a, "--json") == 0) {
      o->json = 1;
    } else if (strcmp (a, "--no-fallback") == 0) {
      o->no_fallback = 1;
    } else if (strcmp (a, "--no-optimize") == 0) {
      o->no_optimize = 1;
    } else if (strcmp (a, "--verbose") == 0 || strcmp (a, "-v") == 0) {
      o->verbose = 1;
    } else if (strcmp (a, "--inputs") == 0) {
      NEED_VALUE ();
      o->inputs_dir = g_strdup (argv[++i]);
    } else if (strcmp (a, "--output-dir") == 0) {
      NEED_VALUE ();
      o->output_dir = g_strdup (argv[++i]);
    } else if (strcmp (a, "--input") == 0 || strcmp (a, "--shape") == 0) {
      NEED_VALUE ();
      const char *v = argv[++i];
      const char *eq = strrchr (v, '=');
      if (!eq || eq == v) {
        *error = g_strdup_printf ("%s wants NAME=%s, got '%s'", a,
                                  a[2] == 'i' ? "FILE" : "DIMS", v);
        goto fail;
      }
      GPtrArray *names = a[2] == 'i' ? o->input_names : o->shape_names;
      GPtrArray *vals = a[2] == 'i' ? o->input_files : o->shape_specs;
      g_ptr_array_add (names, g_strndup (v, (gsize)(eq - v)));
      g_ptr_array_add (vals, g_strdup (eq + 1));
    } else if (strcmp (a, "--help") == 0 || strcmp (a, "-h") == 0) {
      o->help = 1;
    } else if (a[0] == '-' && a[1] == '-') {
      *error = g_strdup_printf ("unknown option '%s'", a);
      goto fail;
    } else {
      g_ptr_array_add (o->positional, g_strdup (a));
    }
#undef NEED_VALUE
  }
  return o;
fail:
  mace_run_options_free (o);
  return NULL;
}

void
mace_run_options_free (MaceRunOptions *o)
{
  if (!o)
    return;
  g_free (o->device);
  g_free (o->cl_device);
  g_free (o->program_cache);
  g_free (o->program_cache_mode);
  g_free (o->program_cache_base);
  g_free (o->tuning_cache);
  g_free (o->inputs_dir);
  g_free (o->output_dir);
  g_ptr_array_free (o->input_names, TRUE);
  g_ptr_array_free (o->input_files, TRUE);
  g_ptr_array_free (o->shape_names, TRUE);
  g_ptr_array_free (o->shape_specs, TRUE);
  g_ptr_array_free (o->positional, TRUE);
  g_free (o);
}

static bool
parse_dims (const char *spec, int *ndim, int64_t *dims)
{
  gchar **parts = g_strsplit_set (spec, "x,", -1);
  int n = 0;
  bool ok = true;
  for (int i = 0; parts[i]; i++) {
    if (n >= MACE_MAX_DIMS) {
      ok = false;
      break;
    }
    char *end = NULL;
    long long v = strtoll (parts[i], &end, 10);
    if (!parts[i][0] || *end || v < 0) {
      ok = false;
      break;
    }
    dims[n++] = v;
  }
  g_strfreev (parts);
  *ndim = n;
  return ok;
}

MaceConfig *
mace_run_make_config (const MaceRunOptions *o, char **error)
{
  MaceConfig *c = mace_config_new ();
  if (o->device && strcmp (o->device, "cpu") != 0)
    mace_config_set_backend (c, MACE_BACKEND_OPENCL);
  mace_config_set_threads (c, o->threads);
  if (o->cl_device)
    mace_config_set_cl_device (c, o->cl_device);
  mace_config_set_allow_fallback (c, !o->no_fallback);
  mace_config_set_optimize (c, !o->no_optimize);
  mace_config_set_program_cache_base (c, o->program_cache_base);
  if (mace_config_set_program_cache (c, o->program_cache, o->program_cache_mode)
      != MACE_OK) {
    *error = g_strdup_printf ("bad --program-cache-mode '%s' (read-write, "
                              "read-only, off or rebuild)",
                              o->program_cache_mode);
    mace_config_free (c);
    return NULL;
  }
  mace_config_set_tuning_cache (c, o->tuning_cache, o->tune);
  for (guint i = 0; i < o->shape_names->len; i++) {
    int nd;
    int64_t dims[MACE_MAX_DIMS];
    if (!parse_dims (o->shape_specs->pdata[i], &nd, dims)) {
      *error = g_strdup_printf ("bad --shape '%s' (want e.g. 1x3x224x224)",
                                (char *)o->shape_specs->pdata[i]);
      mace_config_free (c);
      return NULL;
    }
    mace_config_set_input_shape (c, o->shape_names->pdata[i], nd, dims);
  }
  return c;
}

static int
find_input (MaceEngine *e, const char *name)
{
  for (int i = 0; i < mace_engine_num_inputs (e); i++)
    if (strcmp (mace_engine_input_name (e, i), name) == 0)
      return i;
  return -1;
}

/* Loads --inputs DIR / --input NAME=FILE into the engine.  Returns the
 * number of inputs set, or -1 on error (message printed). */
int
mace_run_set_inputs (MaceEngine *e, const MaceRunOptions *o, int quiet)
{
  int set = 0;
  MaceError err = { 0 };
  if (o->inputs_dir) {
    for (int i = 0; i < mace_engine_num_inputs (e); i++) {
      char *p = g_strdup_printf ("%s/input_%d.pb", o->inputs_dir, i);
      MaceTensor *t = NULL;
      if (mace_tensor_load_pb (p, &t, NULL, &err) != MACE_OK) {
        if (!quiet)
          fprintf (stderr, "mace-run: %s\n", err.message);
        g_free (p);
        return -1;
      }
      g_free (p);
      MaceStatus st = mace_engine_set_input (e, i, t);
      mace_tensor_free (t);
      if (st != MACE_OK) {
        if (!quiet)
          fprintf (stderr, "mace-run: %s\n", mace_engine_last_error (e));
        return -1;
      }
      set++;
    }
  }
  for (guint k = 0; k < o->input_names->len; k++) {
    const char *name = o->input_names->pdata[k];
    int i = find_input (e, name);
    if (i < 0) {
      fprintf (stderr, "mace-run: the model has no input '%s'\n", name);
      return -1;
    }
    MaceTensor *t = NULL;
    if (mace_tensor_load_pb (o->input_files->pdata[k], &t, NULL, &err)
        != MACE_OK) {
      fprintf (stderr, "mace-run: %s\n", err.message);
      return -1;
    }
    MaceStatus st = mace_engine_set_input (e, i, t);
    mace_tensor_free (t);
    if (st != MACE_OK) {
      fprintf (stderr, "mace-run: %s\n", mace_engine_last_error (e));
      return -1;
    }
    set++;
  }
  return set;
}

/* Random inputs for every input not given (bench, compile). */
static int
set_random_inputs (MaceEngine *e, const MaceRunOptions *o,
                   const MaceConfig *config)
{
  (void)config;
  guint64 state = o->seed * 0x9E3779B97F4A7C15ull + 1;
  for (int i = 0; i < mace_engine_num_inputs (e); i++) {
    MaceDataType dt;
    int64_t dims[MACE_MAX_DIMS];
    int nd = mace_engine_input_info (e, i, &dt, dims);
    for (guint s = 0; s < o->shape_names->len; s++)
      if (strcmp (o->shape_names->pdata[s], mace_engine_input_name (e, i)) == 0)
        parse_dims (o->shape_specs->pdata[s], &nd, dims);
    for (int d = 0; d < nd; d++)
      if (dims[d] < 0) {
        fprintf (stderr,
                 "mace-run: input '%s' has a dynamic dimension %d: give "
                 "--shape %s=...\n",
                 mace_engine_input_name (e, i), d,
                 mace_engine_input_name (e, i));
        return -1;
      }
    MaceTensor *t = mace_tensor_new (dt, nd < 0 ? 0 : nd, dims);
    if (!t) {
      fprintf (stderr, "mace-run: input '%s' has unsupported type %s\n",
               mace_engine_input_name (e, i), mace_dtype_name (dt));
      return -1;
    }
    int64_t n = mace_tensor_numel (t);
    for (int64_t k = 0; k < n; k++) {
      state ^= state >> 12;
      state ^= state << 25;
      state ^= state >> 27;
      double u = (double)((state * 2685821657736338717ull) >> 11)
                 / 9007199254740992.0;
      void *d = mace_tensor_data (t);
      switch (dt) {
        case MACE_DTYPE_FLOAT32: ((float *)d)[k] = (float)(u * 2 - 1); break;
        case MACE_DTYPE_FLOAT64: ((double *)d)[k] = u * 2 - 1; break;
        case MACE_DTYPE_UINT8: ((uint8_t *)d)[k] = (uint8_t)(u * 255); break;
        case MACE_DTYPE_INT64: ((int64_t *)d)[k] = (int64_t)(u * 10); break;
        case MACE_DTYPE_INT32: ((int32_t *)d)[k] = (int32_t)(u * 10); break;
        default: break;
      }
    }
    MaceStatus st = mace_engine_set_input (e, i, t);
    mace_tensor_free (t);
    if (st != MACE_OK) {
      fprintf (stderr, "mace-run: %s\n", mace_engine_last_error (e));
      return -1;
    }
  }
  return 0;
}

static MaceEngine *
load_engine (const MaceRunOptions *o, const char *model, MaceConfig **cfg_out)
{
  char *msg = NULL;
  MaceConfig *c = mace_run_make_config (o, &msg);
  if (!c) {
    fprintf (stderr, "mace-run: %s\n", msg);
    g_free (msg);
    return NULL;
  }
  MaceError err = { 0 };
  MaceEngine *e = mace_engine_load_file (model, c, &err);
  if (!e) {
    fprintf (stderr, "mace-run: %s (%s)\n", err.message,
             mace_status_to_string (err.status));
    mace_config_free (c);
    return NULL;
  }
  if (cfg_out)
    *cfg_out = c;
  else
    mace_config_free (c);
  return e;
}

static void
print_shape (FILE *f, int nd, const int64_t *dims)
{
  fputc ('[', f);
  for (int d = 0; d < nd; d++)
    fprintf (f, d ? ", %lld" : "%lld", (long long)dims[d]);
  fputc (']', f);
}

typedef struct {
  FILE *f;
  int json;
  int first;
} OpPrint;

static void
print_op (const char *op, int count, void *data)
{
  OpPrint *p = data;
  if (p->json)
    fprintf (p->f, "%s\"%s\": %d", p->first ? "" : ", ", op, count);
  else
    fprintf (p->f, "  %-24s %d\n", op, count);
  p->first = 0;
}

static int
cmd_info (MaceRunOptions *o)
{
  if (o->positional->len != 1) {
    fprintf (stderr, "usage: mace-run info MODEL\n");
    return 2;
  }
  const char *model = o->positional->pdata[0];
  char unsupported[4096];
  MaceError err = { 0 };
  if (mace_model_check_file (model, unsupported, sizeof unsupported, &err)
      != MACE_OK) {
    fprintf (stderr, "mace-run: %s\n", err.message);
    return 1;
  }
  MaceEngine *e = NULL;
  if (!unsupported[0])
    e = load_engine (o, model, NULL);
  if (!e && !unsupported[0])
    return 1;
  if (!e) {
    if (o->json)
      printf ("{\"model\": \"%s\", \"unsupported_ops\": \"%s\"}\n", model,
              unsupported);
    else
      printf ("model: %s\nunsupported ops: %s\n", model, unsupported);
    return 1;
  }
  MaceModelInfo info;
  mace_engine_get_info (e, &info);
  FILE *f = stdout;
  if (o->json) {
    fprintf (f, "{\"model\": \"%s\", \"opset\": %lld, \"inputs\": [", model,
             (long long)info.opset);
  } else {
    fprintf (f, "model: %s\nopset: %lld\ninputs:\n", model,
             (long long)info.opset);
  }
  for (int i = 0; i < mace_engine_num_inputs (e); i++) {
    MaceDataType dt;
    int64_t dims[MACE_MAX_DIMS];
    int nd = mace_engine_input_info (e, i, &dt, dims);
    if (o->json) {
      fprintf (f, "%s{\"name\": \"%s\", \"type\": \"%s\", \"shape\": ",
               i ? ", " : "", mace_engine_input_name (e, i),
               mace_dtype_name (dt));
      print_shape (f, nd, dims);
      fputc ('}', f);
    } else {
      fprintf (f, "  %s %s ", mace_engine_input_name (e, i),
               mace_dtype_name (dt));
      print_shape (f, nd, dims);
      fputc ('\n', f);
    }
  }
  fprintf (f, o->json ? "], \"outputs\": [" : "outputs:\n");
  for (int i = 0; i < mace_engine_num_outputs (e); i++) {
    MaceDataType dt;
    int64_t dims[MACE_MAX_DIMS];
    int nd = mace_engine_output_info (e, i, &dt, dims);
    if (o->json) {
      fprintf (f, "%s{\"name\": \"%s\", \"type\": \"%s\", \"shape\": ",
               i ? ", " : "", mace_engine_output_name (e, i),
               mace_dtype_name (dt));
      print_shape (f, nd, dims);
      fputc ('}', f);
    } else {
      fprintf (f, "  %s %s ", mace_engine_output_name (e, i),
               mace_dtype_name (dt));
      print_shape (f, nd, dims);
      fputc ('\n', f);
    }
  }
  OpPrint p = { f, o->json, 1 };
  if (o->json) {
    fprintf (f, "], \"ops\": {");
    mace_engine_foreach_op (e, print_op, &p);
    fprintf (f,
             "}, \"unsupported_ops\": [], \"parameters\": %lld, \"nodes\": "
             "%lld, \"nodes_optimized\": %lld, \"planned_peak_bytes\": %lld}\n",
             (long long)info.num_parameters, (long long)info.num_nodes_original,
             (long long)info.num_nodes, (long long)info.planned_peak_bytes);
  } else {
    fprintf (f, "ops (%lld nodes):\n", (long long)info.num_nodes_original);
    mace_engine_foreach_op (e, print_op, &p);
    fprintf (f, "unsupported ops: none\n");
    fprintf (f, "parameters: %lld\n", (long long)info.num_parameters);
    if (info.planned_peak_bytes > 0)
      fprintf (f,
               "nodes after optimisation: %lld\nplanned peak memory: %lld "
               "bytes (%.2f MiB)\n",
               (long long)info.num_nodes, (long long)info.planned_peak_bytes,
               info.planned_peak_bytes / 1048576.0);
    else
      fprintf (f, "planned peak memory: decided at the first run (dynamic "
                  "input shape; use --shape NAME=DIMS)\n");
  }
  mace_engine_free (e);
  return 0;
}

static void
print_stats_json (FILE *f, MaceEngine *e)
{
  MaceCacheStats s;
  mace_engine_get_cache_stats (e, &s);
  fprintf (f,
           "\"cache_hits\": %lld, \"cache_misses\": %lld, \"programs_built\": "
           "%lld, \"compile_ms\": %.3f, \"rejected_stale\": %lld, "
           "\"rejected_corrupt\": %lld, \"rejected_build\": %lld, "
           "\"nodes_on_cpu\": %lld, \"launches_per_run\": %lld",
           (long long)s.cache_hits, (long long)s.cache_misses,
           (long long)s.programs_built, s.compile_ms,
           (long long)s.rejected_stale, (long long)s.rejected_corrupt,
           (long long)s.rejected_build, (long long)s.nodes_on_cpu,
           (long long)s.launches_per_run);
}

static double
now_ms (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int
cmd_run (MaceRunOptions *o)
{
  if (o->positional->len != 1 || !o->output_dir) {
    fprintf (stderr, "usage: mace-run run MODEL [--inputs DIR | --input "
                     "NAME=FILE.pb ...] --output-dir DIR\n");
    return 2;
  }
  double t0 = now_ms ();
  MaceEngine *e = load_engine (o, o->positional->pdata[0], NULL);
  if (!e)
    return 1;
  double t_load = now_ms () - t0;
  int set = mace_run_set_inputs (e, o, 0);
  if (set < 0) {
    mace_engine_free (e);
    return 1;
  }
  if (set < mace_engine_num_inputs (e) && o->input_names->len == 0
      && !o->inputs_dir) {
    fprintf (stderr, "mace-run: give --inputs DIR or --input NAME=FILE.pb\n");
    mace_engine_free (e);
    return 2;
  }
  double t1 = now_ms ();
  if (mace_engine_run (e) != MACE_OK) {
    fprintf (stderr, "mace-run: %s\n", mace_engine_last_error (e));
    mace_engine_free (e);
    return 1;
  }
  double t_run = now_ms () - t1;
  if (g_mkdir_with_parents (o->output_dir, 0755) != 0) {
    fprintf (stderr, "mace-run: %s: cannot create directory: %s\n",
             o->output_dir, g_strerror (errno));
    mace_engine_free (e);
    return 1;
  }
  for (int i = 0; i < mace_engine_num_outputs (e); i++) {
    char *p = g_strdup_printf ("%s/output_%d.pb", o->output_dir, i);
    MaceError err = { 0 };
    if (mace_tensor_save_pb (mace_engine_get_output (e, i),
                             mace_engine_output_name (e, i), p, &err)
        != MACE_OK) {
      fprintf (stderr, "mace-run: %s\n", err.message);
      g_free (p);
      mace_engine_free (e);
      return 1;
    }
    if (!o->json)
      printf ("wrote %s (%s)\n", p, mace_engine_output_name (e, i));
    g_free (p);
  }
  if (o->json) {
    printf ("{\"load_ms\": %.3f, \"run_ms\": %.3f, \"outputs\": %d, ", t_load,
            t_run, mace_engine_num_outputs (e));
    print_stats_json (stdout, e);
    printf ("}\n");
  }
  mace_engine_free (e);
  return 0;
}

static int
cmp_double (const void *a, const void *b)
{
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

static int
cmd_bench (MaceRunOptions *o)
{
  if (o->positional->len != 1 || o->runs < 1 || o->warmup < 0) {
    fprintf (stderr, "usage: mace-run bench MODEL --runs N --warmup K "
                     "[--threads T] [--json]\n");
    return 2;
  }
  double t0 = now_ms ();
  MaceConfig *cfg = NULL;
  MaceEngine *e = load_engine (o, o->positional->pdata[0], &cfg);
  if (!e)
    return 1;
  double t_load = now_ms () - t0;
  int rc = 1;
  double *times = g_new (double, o->runs);
  /* Given inputs (--inputs DIR / --input) win; the rest are random. */
  if ((!o->inputs_dir && set_random_inputs (e, o, cfg) != 0)
      || mace_run_set_inputs (e, o, 0) < 0)
    goto out;
  double t1 = now_ms ();
  double t_first = 0;
  for (int i = 0; i < o->warmup + o->runs; i++) {
    double s = now_ms ();
    if (mace_engine_run (e) != MACE_OK) {
      fprintf (stderr, "mace-run: %s\n", mace_engine_last_error (e));
      goto out;
    }
    double d = now_ms () - s;
    if (i == 0)
      t_first = now_ms () - t1;
    if (i >= o->warmup)
      times[i - o->warmup] = d;
  }
  double sum = 0;
  for (int i = 0; i < o->runs; i++)
    sum += times[i];
  qsort (times, (size_t)o->runs, sizeof (double), cmp_double);
  double median = o->runs % 2
                      ? times[o->runs / 2]
                      : 0.5 * (times[o->runs / 2 - 1] + times[o->runs / 2]);
  int p90i = (int)ceil (0.9 * o->runs) - 1;
  if (p90i < 0)
    p90i = 0;
  double p90 = times[p90i];
  if (o->json) {
    printf ("{\"model\": \"%s\", \"device\": \"%s\", \"threads\": %d, "
            "\"runs\": %d, \"warmup\": %d, \"median_ms\": %.4f, \"min_ms\": "
            "%.4f, \"p90_ms\": %.4f, \"max_ms\": %.4f, \"mean_ms\": %.4f, "
            "\"load_ms\": %.3f, \"first_run_ms\": %.3f, ",
            (char *)o->positional->pdata[0], o->device ? o->device : "cpu",
            o->threads, o->runs, o->warmup, median, times[0], p90,
            times[o->runs - 1], sum / o->runs, t_load, t_first);
    print_stats_json (stdout, e);
    printf ("}\n");
  } else {
    printf ("%s: %d runs after %d warm-up, %s, threads %d\n",
            (char *)o->positional->pdata[0], o->runs, o->warmup,
            o->device ? o->device : "cpu", o->threads);
    printf ("  median %.4f ms  min %.4f ms  p90 %.4f ms  max %.4f ms\n", median,
            times[0], p90, times[o->runs - 1]);
    printf ("  load %.1f ms, first run %.1f ms\n", t_load, t_first);
  }
  rc = 0;
out:
  g_free (times);
  mace_config_free (cfg);
  mace_engine_free (e);
  return rc;
}

static int
cmd_compile (MaceRunOptions *o)
{
  if (o->positional->len != 1) {
    fprintf (stderr, "usage: mace-run compile MODEL --device cl "
                     "[--program-cache FILE] [--tune --tuning-cache FILE]\n");
    return 2;
  }
  if (!o->device || strcmp (o->device, "cpu") == 0) {
    g_free (o->device);
    o->device = g_strdup ("cl");
  }
  double t0 = now_ms ();
  MaceConfig *cfg = NULL;
  MaceEngine *e = load_engine (o, o->positional->pdata[0], &cfg);
  if (!e)
    return 1;
  int rc = 0;
  /* Dynamic models are prepared by one run on random data of the given
   * --shape; static ones are already compiled by the load. */
  if (o->tune || o->shape_names->len) {
    if (set_random_inputs (e, o, cfg) != 0 || mace_engine_run (e) != MACE_OK) {
      fprintf (stderr, "mace-run: %s\n", mace_engine_last_error (e));
      rc = 1;
    }
  }
  double t = now_ms () - t0;
  if (rc == 0) {
    if (o->json) {
      printf ("{\"model\": \"%s\", \"compile_total_ms\": %.3f, ",
              (char *)o->positional->pdata[0], t);
      print_stats_json (stdout, e);
      printf ("}\n");
    } else {
      MaceCacheStats s;
      mace_engine_get_cache_stats (e, &s);
      printf ("compiled %s in %.1f ms: %lld programs built, %lld cache hits, "
              "%lld nodes on the CPU\n",
              (char *)o->positional->pdata[0], t, (long long)s.programs_built,
              (long long)s.cache_hits, (long long)s.nodes_on_cpu);
    }
  }
  mace_config_free (cfg);
  mace_engine_free (e); /* writes the program cache */
  return rc;
}

int
main (int argc, char **argv)
{
  if (argc < 2) {
    usage (stderr);
    return 2;
  }
  const char *cmd = argv[1];
  if (strcmp (cmd, "--help") == 0 || strcmp (cmd, "-h") == 0
      || strcmp (cmd, "help") == 0) {
    usage (stdout);
    return 0;
  }
  if (strcmp (cmd, "cache") == 0) {
#ifdef MACE_RUN_HAVE_CACHE
    return mace_run_cmd_cache (argc - 1, argv + 1);
#else
    fprintf (stderr, "mace-run: built without OpenCL: no program cache\n");
    return 2;
#endif
  }
  char *error = NULL;
  MaceRunOptions *o = mace_run_options_parse (argc, argv, 2, &error);
  if (!o) {
    fprintf (stderr, "mace-run: %s\n", error);
    g_free (error);
    return 2;
  }
  if (o->help) {
    usage (stdout);
    mace_run_options_free (o);
    return 0;
  }
  if (o->verbose)
    mace_set_log_level (MACE_LOG_INFO);
  int rc;
  if (strcmp (cmd, "info") == 0)
    rc = cmd_info (o);
  else if (strcmp (cmd, "run") == 0)
    rc = cmd_run (o);
  else if (strcmp (cmd, "bench") == 0)
    rc = cmd_bench (o);
  else if (strcmp (cmd, "compile") == 0)
    rc = cmd_compile (o);
  else if (strcmp (cmd, "conformance") == 0)
    rc = mace_run_cmd_conformance (o);
  else {
    fprintf (stderr, "mace-run: unknown command '%s'\n", cmd);
    usage (stderr);
    rc = 2;
  }
  mace_run_options_free (o);
  return rc;
}
