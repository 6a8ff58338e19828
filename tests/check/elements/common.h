/* SPDX-License-Identifier: Apache-2.0
 * What the element tests share: paths in the source tree (MACE_SOURCE_ROOT,
 * set by Meson) and skipping a test whose model is not fetched. */
#ifndef MACE_CHECK_COMMON_H
#define MACE_CHECK_COMMON_H

#include <gst/check/gstcheck.h>

/* rel inside the source tree; g_free() it. */
static inline gchar *
src_path (const char *rel)
{
  const char *root = g_getenv ("MACE_SOURCE_ROOT");
  return g_build_filename (root ? root : ".", rel, NULL);
}

/* BlazeFace front (128x128); g_free() it. */
static inline gchar *
face_model (void)
{
  return src_path (
      "models/blazeface/face_detection_front_128x128_barracuda.onnx");
}

/* Returns from the test (freeing p) when file p is missing. */
#define REQUIRE_FILE(p)                                                        \
  G_STMT_START                                                                 \
  {                                                                            \
    if (!g_file_test ((p), G_FILE_TEST_EXISTS)) {                              \
      GST_WARNING ("%s missing (run models/fetch): skipping", (p));            \
      g_free (p);                                                              \
      return;                                                                  \
    }                                                                          \
  }                                                                            \
  G_STMT_END

#endif
