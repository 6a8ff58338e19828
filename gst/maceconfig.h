/* SPDX-License-Identifier: Apache-2.0
 * Model configuration for macefilter: how frames become the model's input
 * and how its outputs are decoded.  Read from a small .json or .ini file
 * beside the model (or given with the `config` property). */
#ifndef MACE_CONFIG_FILE_H
#define MACE_CONFIG_FILE_H

#include <glib.h>

G_BEGIN_DECLS

typedef enum {
  MACE_LAYOUT_AUTO = 0,
  MACE_LAYOUT_NHWC,
  MACE_LAYOUT_NCHW,
} MaceLayout;

typedef enum {
  MACE_RESIZE_STRETCH = 0,
  MACE_RESIZE_LETTERBOX,
} MaceResize;

typedef enum {
  MACE_DECODER_AUTO = 0,
  MACE_DECODER_BLAZEFACE,
  MACE_DECODER_IMAGE,
  MACE_DECODER_TENSOR,
} MaceDecoderType;

#define MACE_MAX_STRIDES 8

typedef struct {
  char *path; /* file it came from, or NULL for defaults */
  MaceLayout layout;
  gboolean bgr; /* model wants BGR channel order */
  /* input value = (pixel[0..255] - mean[c]) * scale[c] */
  float mean[3], scale[3];
  MaceResize resize;
  MaceDecoderType decoder;
  /* blazeface */
  int n_strides;
  int strides[MACE_MAX_STRIDES];
  int anchors_per_stride; /* per layer before merging (MediaPipe: 2) */
  float score_threshold;
  float iou_threshold;
  int n_keypoints;
  char **labels; /* NULL-terminated, may be NULL */
  /* image: output value v maps to pixel (v - out_lo) * 255 / (out_hi - out_lo)
   */
  float out_lo, out_hi;
  int tile; /* tile size for fixed-input image models, 0 = whole frame */
} MaceModelConfig;

void mace_model_config_init (MaceModelConfig *c);
void mace_model_config_clear (MaceModelConfig *c);
/* Parses .json or .ini (by extension).  FALSE with error (names the file and
 * the key) on failure. */
gboolean mace_model_config_load (MaceModelConfig *c, const char *path,
                                 GError **error);
/* <model>.json, then <model>.ini, then <model without .onnx>.json/.ini;
 * NULL if none. g_free the result. */
char *mace_model_config_find (const char *model_path);
const char *mace_decoder_type_name (MaceDecoderType t);

G_END_DECLS

#endif
