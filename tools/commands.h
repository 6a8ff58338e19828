/* SPDX-License-Identifier: Apache-2.0
 * mace-run subcommands implemented outside tools/mace-run.c.  Each takes
 * the arguments from the subcommand's name on (argv[0] is the name) and
 * returns the process exit status. */
#ifndef MACE_RUN_COMMANDS_H
#define MACE_RUN_COMMANDS_H

/* `mace-run cache dump FILE` and `mace-run cache verify FILE`: a text dump
 * of a compiled-program or tuning cache file, or a check of it.  Returns 0
 * when the file verifies, 1 when it has problems or cannot be read, 2 for a
 * usage error. */
int mace_run_cmd_cache (int argc, char **argv);

#endif
