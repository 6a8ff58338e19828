/* SPDX-License-Identifier: Apache-2.0
 * Fuzz target for the cache file parser (mace-cl-compiled-program.bin and
 * mace-cl-tuned-params.bin share it).  Two builds:
 *  - with -Dfuzzing=true (clang, -fsanitize=fuzzer,address, MACE_LIBFUZZER
 *    defined): a libFuzzer binary, e.g. (new inputs go to the first
 *    directory, so give it a scratch one)
 *      fuzz_cache -max_len=65536 /tmp/cache-corpus tests/fuzz/corpus_cache
 *    The seeds are written by `test_program_cache make-corpus` with
 *    CORPUS_DIR set.
 *  - otherwise: a standalone driver that replays every file of the
 *    directories (or files) given on the command line, and every prefix of
 *    each, so the corpus doubles as a regression test.
 * Beyond not crashing, it checks that whatever survives parsing serialises
 * to a file that parses again without problems and identically, and that
 * merge, bound and dump accept it. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <glib.h>

#include "cl/cache_file.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

static FILE *devnull;

static void
check_kind (const uint8_t *data, size_t size, MaceCacheKind kind)
{
  int problems = 0;
  MaceCacheFile *f = mace_cache_file_parse (data, size, kind, "fuzz.bin", NULL,
                                            NULL, &problems);
  uint8_t *b;
  size_t n;
  mace_cache_file_serialize (f, &b, &n);
  int again = -1;
  MaceCacheFile *g
      = mace_cache_file_parse (b, n, f->kind, "fuzz.bin", NULL, NULL, &again);
  uint8_t *b2;
  size_t n2;
  mace_cache_file_serialize (g, &b2, &n2);
  if (again != 0 || n != n2 || memcmp (b, b2, n) != 0) {
    fprintf (stderr, "re-serialised file differs or has %d problems\n", again);
    __builtin_trap ();
  }
  /* Merge what was read into an empty file as if it were ours. */
  MaceCacheFile *empty = mace_cache_file_new (f->kind);
  if (f->sections->len > 0)
    ((MaceCacheSection *)g_ptr_array_index (f->sections, 0))->current = true;
  mace_cache_file_merge (empty, f);
  mace_cache_file_bound (empty, 4096);
  mace_cache_file_free (empty);
  g_free (b);
  g_free (b2);
  mace_cache_file_free (g);
  mace_cache_file_free (f);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  if (!devnull)
    devnull = fopen ("/dev/null", "w");
  check_kind (data, size, 0);
  check_kind (data, size, MACE_CACHE_KIND_PROGRAMS);
  check_kind (data, size, MACE_CACHE_KIND_TUNING);
  if (devnull)
    mace_cache_file_dump (data, size, "fuzz.bin", devnull, false);
  return 0;
}

#ifndef MACE_LIBFUZZER
static int
replay_file (const char *path)
{
  gchar *data = NULL;
  gsize len = 0;
  if (!g_file_get_contents (path, &data, &len, NULL)) {
    fprintf (stderr, "cannot read %s\n", path);
    return 1;
  }
  LLVMFuzzerTestOneInput ((const uint8_t *)data, len);
  size_t step = len > 2048 ? len / 2048 : 1;
  for (size_t cut = 0; cut < len; cut += step)
    LLVMFuzzerTestOneInput ((const uint8_t *)data, cut);
  /* Single flipped bits over the whole file. */
  for (size_t at = 0; at < len; at += step) {
    data[at] ^= 0x10;
    LLVMFuzzerTestOneInput ((const uint8_t *)data, len);
    data[at] ^= 0x10;
  }
  g_free (data);
  return 0;
}

int
main (int argc, char **argv)
{
  int files = 0, bad = 0;
  for (int i = 1; i < argc; i++) {
    if (g_file_test (argv[i], G_FILE_TEST_IS_DIR)) {
      GDir *d = g_dir_open (argv[i], 0, NULL);
      const char *e;
      while (d && (e = g_dir_read_name (d))) {
        char *p = g_build_filename (argv[i], e, NULL);
        if (g_file_test (p, G_FILE_TEST_IS_REGULAR)) {
          bad += replay_file (p);
          files++;
        }
        g_free (p);
      }
      if (d)
        g_dir_close (d);
    } else {
      bad += replay_file (argv[i]);
      files++;
    }
  }
  printf ("replayed %d files\n", files);
  if (files == 0) {
    fprintf (stderr, "no corpus files given\n");
    return 1;
  }
  return bad ? 1 : 0;
}
#endif
