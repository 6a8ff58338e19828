/* SPDX-License-Identifier: Apache-2.0
 * mace-run subcommands implemented outside mace-run.c. */
#ifndef MACE_RUN_COMMANDS_H
#define MACE_RUN_COMMANDS_H

#include <glib.h>

#include "mace.h"

typedef struct {
  char *device, *cl_device;
  int threads, runs, warmup;
  guint64 seed;
  char *program_cache, *program_cache_mode, *program_cache_base;
  char *tuning_cache;
  int tune, json, no_fallback, no_optimize, verbose, help;
  char *inputs_dir, *output_dir;
  GPtrArray *input_names, *input_files; /* --input NAME=FILE */
  GPtrArray *shape_names, *shape_specs; /* --shape NAME=DIMS */
  GPtrArray *positional;
} MaceRunOptions;

MaceRunOptions *mace_run_options_parse (int argc, char **argv, int first,
                                        char **error);
void mace_run_options_free (MaceRunOptions *o);
MaceConfig *mace_run_make_config (const MaceRunOptions *o, char **error);
int mace_run_set_inputs (MaceEngine *e, const MaceRunOptions *o, int quiet);

/* mace-run conformance [--device D] [--no-fallback] DIR... */
int mace_run_cmd_conformance (MaceRunOptions *o);
/* `mace-run cache dump FILE` and `mace-run cache verify FILE` (argv[0] is
 * "cache"): a text dump of a compiled-program or tuning cache file, or a
 * check of it.  Returns 0 when the file verifies, 1 when it has problems or
 * cannot be read, 2 for a usage error. */
int mace_run_cmd_cache (int argc, char **argv);

#endif
