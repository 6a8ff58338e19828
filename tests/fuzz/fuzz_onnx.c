/* SPDX-License-Identifier: Apache-2.0
 * Fuzz target for the ONNX importer: ModelProto and TensorProto bytes.
 *
 * Built two ways from this one file:
 *  - with -Dfuzzing=true (clang, -fsanitize=fuzzer,address, MACE_LIBFUZZER
 *    defined): a libFuzzer binary.  libFuzzer adds what it finds to the
 *    first directory, so give it a scratch one before the seeds:
 *      mkdir -p /tmp/corpus
 *      fuzz_onnx -max_len=65536 /tmp/corpus tests/fuzz/corpus_onnx
 *  - otherwise: a standalone driver that replays every file of the
 *    directories (or files) given on the command line, and every prefix of
 *    each, so the corpus doubles as a regression test under any compiler
 *    and under valgrind or -Db_sanitize=address. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <glib.h>

#include "internal.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  MaceError err = { 0 };
  MaceGraph *g = mace_onnx_load (data, size, "fuzz.onnx", &err);
  /* Every failure must carry a status and a message naming the file. */
  if (!g
      && (err.status == MACE_OK
          || strncmp (err.message, "fuzz.onnx: ", 11) != 0)) {
    fprintf (stderr, "model failure without a proper report: %d '%s'\n",
             err.status, err.message);
    __builtin_trap ();
  }
  mace_graph_free (g);

  MaceTensor *t = NULL;
  char *name = NULL;
  memset (&err, 0, sizeof err);
  if (mace_onnx_parse_tensor (data, size, "fuzz.pb", &t, &name, &err)
      == MACE_OK) {
    /* What was read must write back and read again identically. */
    uint8_t *out = NULL;
    size_t len = 0;
    if (mace_onnx_serialize_tensor (t, name, &out, &len, &err) == MACE_OK) {
      MaceTensor *t2 = NULL;
      if (mace_onnx_parse_tensor (out, len, "fuzz2.pb", &t2, NULL, &err)
              != MACE_OK
          || t2->dtype != t->dtype
          || memcmp (t2->data, t->data, mace_tensor_nbytes (t)) != 0) {
        fprintf (stderr, "tensor round trip failed: %s\n", err.message);
        __builtin_trap ();
      }
      mace_tensor_free (t2);
    }
    g_free (out);
    mace_tensor_free (t);
    g_free (name);
  } else if (strncmp (err.message, "fuzz.pb: ", 9) != 0) {
    fprintf (stderr, "tensor failure without a proper report: '%s'\n",
             err.message);
    __builtin_trap ();
  }
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
  /* The whole file, then every prefix (cheap for a small corpus). */
  LLVMFuzzerTestOneInput ((const uint8_t *)data, len);
  size_t step = len > 4096 ? len / 4096 : 1;
  for (size_t cut = 0; cut < len; cut += step)
    LLVMFuzzerTestOneInput ((const uint8_t *)data, cut);
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
  printf ("replayed %d files (and their prefixes)\n", files);
  if (files == 0) {
    fprintf (stderr, "usage: %s CORPUS_DIR|FILE...\n", argv[0]);
    return 1;
  }
  return bad ? 1 : 0;
}
#endif
