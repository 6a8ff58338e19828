/* SPDX-License-Identifier: Apache-2.0
 * Tensor -> frame conversions of macefilter: the decoders (BlazeFace
 * detections, image output, whole or in tiles).  Preprocessing (frame ->
 * tensor) lives in libmace: mace_engine_set_input_frame. */
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

/* The anchors of one output pair, in anchor order: n logits and
 * n x reg_len regressors. */
typedef struct {
  const float *scores, *regs;
  int n, reg_len;
} MaceAnchorGroup;

/* mace_decode_blazeface on the model's outputs as they are, one group
 * after the other (their anchor counts add up to a->n_anchors): nothing
 * is copied, and nothing allocated unless an anchor passes the
 * threshold. */
int mace_decode_blazeface_groups (const MaceAnchors *a,
                                  const MaceAnchorGroup *groups, int n_groups,
                                  int input_h, int input_w,
                                  const MaceContentRect *content,
                                  float threshold, float iou, int n_kp,
                                  MaceDetection *out, int max_out);

/* Writes an image tensor (NHWC or NCHW, 3 channels, value range
 * [lo, hi]) into a frame of the same size.  FALSE for unsupported
 * formats. */
gboolean mace_tensor_to_frame (const float *src, MaceLayout layout, int h,
                               int w, float lo, float hi, gboolean bgr,
                               GstVideoFrame *frame, GThreadPool *pool);

/* Writes the rw x rh region at (sx, sy) of an h x w image tensor to the
 * frame at (dx, dy) (tiles).  FALSE when out of bounds. */
gboolean mace_tensor_to_frame_region (const float *src, MaceLayout layout,
                                      int h, int w, int sx, int sy, int rw,
                                      int rh, int dx, int dy, float lo,
                                      float hi, gboolean bgr,
                                      GstVideoFrame *frame, GThreadPool *pool);

/* The threads mace_tensor_to_frame* share large frames with (pool may be
 * NULL: the caller's thread alone); one fewer than the cores, at most 7,
 * the caller's thread being one. */
GThreadPool *mace_to_frame_pool_new (void);

gboolean mace_format_supported (GstVideoFormat f);

G_END_DECLS

#endif
