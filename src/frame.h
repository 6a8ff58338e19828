/* SPDX-License-Identifier: Apache-2.0
 * Video frames as model input: the resolved preprocessing plan shared by
 * the CPU implementation (src/frame.c) and the OpenCL kernel
 * (kernels/preprocess.cl, src/cl/preprocess.c).  Not installed. */
#ifndef MACE_FRAME_H
#define MACE_FRAME_H

#include "internal.h"

typedef struct {
  MaceFrameFormat format;
  int sw, sh;                         /* frame size */
  int crop_x, crop_y, crop_w, crop_h; /* source region */
  int mw, mh;                         /* model input size */
  MaceTensorLayout layout;
  int ci[3]; /* source channel (0 R, 1 G, 2 B) of output channel k */
  float mean[3], scale[3];
  int ix0, iy0, ix1, iy1; /* content pixels [ix0, ix1) x [iy0, iy1) */
  float cx, cy;           /* content origin in model pixels */
  float fx, fy;           /* source pixels per model pixel */
  bool same;              /* 1:1, no resampling */
  MaceRect content;
} MaceFramePlan;

/* Planes of a format (1, 2 or 3). */
int mace_frame_n_planes (MaceFrameFormat format);
/* Bytes plane p spans (stride x rows). */
size_t mace_frame_plane_bytes (const MaceFrame *frame, int plane);
/* Checks the frame and resolves pp for a mw x mh model input. */
MaceStatus mace_frame_plan (const MaceFrame *frame, const MacePreprocess *pp,
                            int mw, int mh, MaceFramePlan *plan,
                            MaceError *err);
/* The CPU implementation: writes 3 x mh x mw floats to dst (host planes),
 * rows split over pool. */
void mace_frame_preprocess_cpu (const MaceFrame *frame,
                                const MaceFramePlan *plan, float *dst,
                                MaceThreadPool *pool);

#endif
