/* SPDX-License-Identifier: Apache-2.0
 * Frame <-> tensor conversions of macefilter on the CPU: preprocessing
 * (colour conversion from packed RGB and YUV formats, resize, normalise,
 * layout) and the decoders (BlazeFace detections, image output). */
#ifndef MACE_PROCESS_H
#define MACE_PROCESS_H

#include <gst/video/video.h>

#include "maceconfig.h"

G_BEGIN_DECLS

/* Where the frame landed inside the model input (letterbox), in model
 * pixels. */
typedef struct {
  double x, y, w, h;
} MaceContentRect;

/* Fills dst (float, model layout; NHWC or NCHW, 1 x mh x mw x 3) from the
 * frame.  Returns FALSE for an unsupported format. */
gboolean mace_preprocess_frame (const GstVideoFrame *frame,
                                const MaceModelConfig *c, MaceLayout layout,
                                int mh, int mw, float *dst,
                                MaceContentRect *content);

/* One decoded face/object, coordinates normalised to the frame. */
typedef struct {
  float x0, y0, x1, y1;
  float score;
  int label;
  int n_kp;
  float kp[32][2];
} MaceDetection;

typedef struct {
  int n_anchors;
  float *anchors; /* cx, cy normalised */
} MaceAnchors;

void mace_anchors_build (MaceAnchors *a, const MaceModelConfig *c, int input_h,
                         int input_w);
void mace_anchors_clear (MaceAnchors *a);

/* scores: n_anchors logits; regs: n_anchors x reg_len in model pixels.
 * Writes up to max_out detections (after weighted NMS), mapped from the
 * model's content rect to the frame.  Returns the count. */
int mace_decode_blazeface (const MaceAnchors *a, const float *scores,
                           const float *regs, int reg_len, int input_h,
                           int input_w, const MaceContentRect *content,
                           float threshold, float iou, int n_kp,
                           MaceDetection *out, int max_out);

/* Writes an image tensor (NHWC or NCHW, 3 channels, value range
 * [lo, hi]) into a frame of the same size.  FALSE for unsupported
 * formats. */
gboolean mace_tensor_to_frame (const float *src, MaceLayout layout, int h,
                               int w, float lo, float hi, gboolean bgr,
                               GstVideoFrame *frame);

gboolean mace_format_supported (GstVideoFormat f);

G_END_DECLS

#endif
