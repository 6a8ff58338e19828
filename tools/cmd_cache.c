/* SPDX-License-Identifier: Apache-2.0
 * `mace-run cache dump FILE` / `mace-run cache verify FILE`: inspect a
 * compiled-program cache (mace-cl-compiled-program.bin) or a tuning cache
 * (mace-cl-tuned-params.bin). */
#include <stdio.h>
#include <string.h>

#include <glib.h>

#include "cl/cache_file.h"
#include "commands.h"

static int
usage (FILE *out)
{
  fprintf (out,
           "usage: mace-run cache dump FILE     print sections, keys, sizes "
           "and checksums\n"
           "       mace-run cache verify FILE   check every checksum; exit 1 "
           "on any problem\n");
  return 2;
}

int
mace_run_cmd_cache (int argc, char **argv)
{
  if (argc == 2
      && (strcmp (argv[1], "--help") == 0 || strcmp (argv[1], "-h") == 0)) {
    usage (stdout);
    return 0;
  }
  if (argc != 3)
    return usage (stderr);
  bool dump = strcmp (argv[1], "dump") == 0;
  if (!dump && strcmp (argv[1], "verify") != 0) {
    fprintf (stderr, "mace-run cache: unknown action '%s'\n", argv[1]);
    return usage (stderr);
  }
  const char *path = argv[2];
  gchar *data = NULL;
  gsize len = 0;
  GError *gerr = NULL;
  if (!g_file_get_contents (path, &data, &len, &gerr)) {
    fprintf (stderr, "mace-run cache %s: %s\n", argv[1], gerr->message);
    g_error_free (gerr);
    return 1;
  }
  int problems
      = mace_cache_file_dump ((const uint8_t *)data, len, path, stdout, !dump);
  fflush (stdout);
  g_free (data);
  return problems == 0 ? 0 : 1;
}
