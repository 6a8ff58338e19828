/* SPDX-License-Identifier: Apache-2.0
 *
 * libmace: a small inference runtime for ONNX models with a CPU backend and
 * an OpenCL backend.  This is the whole public API.
 *
 * Ownership rules: every *_new / *_load returns an object the caller frees
 * with the matching *_free.  Tensors returned by mace_engine_get_output()
 * belong to the engine and stay valid until the next mace_engine_run()
 * (or mace_engine_run_async()) or mace_engine_free().  Every fallible call
 * returns a MaceStatus; on failure a message naming the file, node and reason
 * is available from mace_engine_last_error() or through the MaceError
 * out-parameter.
 */
#ifndef MACE_H
#define MACE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define MACE_MAX_DIMS 8

/* Status codes.  Never negative; MACE_OK is zero. */
typedef enum {
  MACE_OK = 0,
  MACE_ERROR_IO,            /* file missing, unreadable, unwritable */
  MACE_ERROR_PARSE,         /* bytes are not a valid ONNX / tensor / cache */
  MACE_ERROR_INVALID_MODEL, /* parsed, but inconsistent (cycle, bad ref) */
  MACE_ERROR_UNSUPPORTED,   /* op, attribute or type not implemented */
  MACE_ERROR_INVALID_ARG,   /* caller passed a bad name, shape or type */
  MACE_ERROR_SHAPE,         /* shapes do not agree */
  MACE_ERROR_OUT_OF_MEMORY,
  MACE_ERROR_BACKEND, /* device or driver failure */
  MACE_ERROR_INTERNAL,
} MaceStatus;

/* A static, human readable name for a status ("ok", "io error", ...). */
const char *mace_status_to_string (MaceStatus status);

/* Element types use ONNX TensorProto.DataType numbering. */
typedef enum {
  MACE_DTYPE_UNDEFINED = 0,
  MACE_DTYPE_FLOAT32 = 1,
  MACE_DTYPE_UINT8 = 2,
  MACE_DTYPE_INT8 = 3,
  MACE_DTYPE_UINT16 = 4,
  MACE_DTYPE_INT16 = 5,
  MACE_DTYPE_INT32 = 6,
  MACE_DTYPE_INT64 = 7,
  MACE_DTYPE_STRING = 8, /* not supported for computation */
  MACE_DTYPE_BOOL = 9,
  MACE_DTYPE_FLOAT16 = 10,
  MACE_DTYPE_FLOAT64 = 11,
  MACE_DTYPE_UINT32 = 12,
  MACE_DTYPE_UINT64 = 13,
  MACE_DTYPE_BFLOAT16 = 16,
} MaceDataType;

/* Name of a data type ("float32", "int64", ...); "unknown" otherwise. */
const char *mace_dtype_name (MaceDataType dtype);
/* Size of one element in bytes; 0 for unknown / string. */
size_t mace_dtype_size (MaceDataType dtype);

typedef enum {
  MACE_BACKEND_CPU = 0,
  MACE_BACKEND_OPENCL = 1,
} MaceBackendType;

typedef enum {
  MACE_LOG_ERROR = 0,
  MACE_LOG_WARNING = 1,
  MACE_LOG_INFO = 2,
  MACE_LOG_DEBUG = 3,
} MaceLogLevel;

/* The library reports through this callback; the default prints warnings
 * and errors to stderr.  Pass NULL to restore the default.  Thread-safe. */
typedef void (*MaceLogFunc) (MaceLogLevel level, const char *message,
                             void *user_data);
void mace_set_log_callback (MaceLogFunc func, void *user_data);
/* Messages above this level are not produced (default MACE_LOG_WARNING,
 * or MACE_LOG_DEBUG when MACE_DEBUG is set in the environment). */
void mace_set_log_level (MaceLogLevel level);

/* Error details filled by fallible calls that take one.  May be NULL. */
typedef struct {
  MaceStatus status;
  char message[1024];
} MaceError;

/* ---- Tensors ---------------------------------------------------------- */

typedef struct MaceTensor MaceTensor;

/* A new dense tensor with zeroed storage.  ndim may be 0 (a scalar). */
MaceTensor *mace_tensor_new (MaceDataType dtype, int ndim, const int64_t *dims);
/* A tensor that wraps caller memory (not copied, not freed). */
MaceTensor *mace_tensor_new_wrap (MaceDataType dtype, int ndim,
                                  const int64_t *dims, void *data);
void mace_tensor_free (MaceTensor *tensor);
MaceDataType mace_tensor_dtype (const MaceTensor *tensor);
int mace_tensor_ndim (const MaceTensor *tensor);
int64_t mace_tensor_dim (const MaceTensor *tensor, int axis);
/* Number of elements (1 for a scalar). */
int64_t mace_tensor_numel (const MaceTensor *tensor);
size_t mace_tensor_nbytes (const MaceTensor *tensor);
void *mace_tensor_data (MaceTensor *tensor);
const void *mace_tensor_data_const (const MaceTensor *tensor);

/* Reads an ONNX TensorProto (.pb) file.  On success *out holds a new tensor
 * and, if name is not NULL, *name a g_malloc'ed copy of its name (free
 * with mace_free). */
MaceStatus mace_tensor_load_pb (const char *path, MaceTensor **out, char **name,
                                MaceError *error);
/* Writes a tensor as an ONNX TensorProto (.pb) file, atomically. */
MaceStatus mace_tensor_save_pb (const MaceTensor *tensor, const char *name,
                                const char *path, MaceError *error);
void mace_free (void *ptr);

/* ---- Configuration ---------------------------------------------------- */

typedef struct MaceConfig MaceConfig;

MaceConfig *mace_config_new (void);
void mace_config_free (MaceConfig *config);
void mace_config_set_backend (MaceConfig *config, MaceBackendType backend);
/* Worker threads for the CPU backend; 0 (default) = number of cores (with
 * the OpenCL backend, which uses the CPU only for frame preprocessing and
 * fallback nodes: 4 at most). */
void mace_config_set_threads (MaceConfig *config, int threads);
/* Fixes a dynamic input dimension before preparing (optional; by default
 * dynamic dims are taken from the first run's inputs). */
MaceStatus mace_config_set_input_shape (MaceConfig *config, const char *name,
                                        int ndim, const int64_t *dims);
/* Disables graph optimisation passes (for testing fused vs unfused). */
void mace_config_set_optimize (MaceConfig *config, int enable);
/* OpenCL: device by index ("0") or name substring ("NVIDIA"); NULL = the
 * first GPU, else the first device. */
void mace_config_set_cl_device (MaceConfig *config, const char *device);
/* OpenCL: when a node cannot run on the device, fall back to the CPU
 * (default 1) or fail at load time (0). */
void mace_config_set_allow_fallback (MaceConfig *config, int allow);
/* OpenCL compiled-program cache path (NULL = default location) and mode:
 * "read-write" (default), "read-only", "off" or "rebuild". */
MaceStatus mace_config_set_program_cache (MaceConfig *config, const char *path,
                                          const char *mode);
/* OpenCL: a read-only compiled-program cache under the one above (for
 * example one shipped with an application): programs the first has no
 * valid entry for are loaded from it before anything is built; it is
 * never written.  NULL = none. */
void mace_config_set_program_cache_base (MaceConfig *config, const char *path);
/* OpenCL tuning cache path (NULL = default) and whether to tune now. */
void mace_config_set_tuning_cache (MaceConfig *config, const char *path,
                                   int tune);

/* OpenCL devices this build can use, over all platforms; gpus_only: GPUs
 * and accelerators only (not CPU devices such as PoCL's, on which the CPU
 * backend is faster).  0 without OpenCL. */
int mace_opencl_device_count (int gpus_only);

/* ---- Engine ----------------------------------------------------------- */

typedef struct MaceEngine MaceEngine;

/* Loads an ONNX model, checks that every op is supported (all unsupported
 * ops are reported at once), optimises the graph and prepares the backend.
 * config may be NULL for defaults.  On failure returns NULL and fills
 * error (may be NULL). */
MaceEngine *mace_engine_load_file (const char *path, const MaceConfig *config,
                                   MaceError *error);
/* Same, from memory.  name is used in messages (may be NULL). */
MaceEngine *mace_engine_load_memory (const void *data, size_t size,
                                     const char *name, const MaceConfig *config,
                                     MaceError *error);
void mace_engine_free (MaceEngine *engine);

int mace_engine_num_inputs (const MaceEngine *engine);
int mace_engine_num_outputs (const MaceEngine *engine);
const char *mace_engine_input_name (const MaceEngine *engine, int index);
const char *mace_engine_output_name (const MaceEngine *engine, int index);
/* Declared type and shape of an input/output; dynamic dims are -1.
 * dims must hold MACE_MAX_DIMS entries.  Returns the rank, or -1. */
int mace_engine_input_info (const MaceEngine *engine, int index,
                            MaceDataType *dtype, int64_t *dims);
int mace_engine_output_info (const MaceEngine *engine, int index,
                             MaceDataType *dtype, int64_t *dims);

/* Sets input `index` by copying the tensor's data.  Type must match. */
MaceStatus mace_engine_set_input (MaceEngine *engine, int index,
                                  const MaceTensor *tensor);
/* Runs the graph on the inputs set so far. */
MaceStatus mace_engine_run (MaceEngine *engine);
/* Output `index` of the last run; owned by the engine. */
const MaceTensor *mace_engine_get_output (MaceEngine *engine, int index);

/* A run that overlaps the host's work (the next frame's preprocessing,
 * the last frame's decoding) with the device's.  mace_engine_run_async()
 * starts a run on the inputs set so far (after waiting for the one in
 * flight, if any) and returns without waiting for the device; fence (may
 * be NULL; the caller frees it with mace_fence_free()) tells when its
 * outputs are there.  While the run is in flight:
 *  - the engine's thread may set the next inputs (mace_engine_set_input*
 *    write other host tensors than the ones the run reads; device work
 *    is queued behind the run); any other call waits for the run first;
 *  - mace_fence_wait() blocks until the run's outputs are on the host,
 *    and mace_fence_get_output() reads them.  Both touch nothing but the
 *    fence and those outputs, so another thread may use them while the
 *    engine's thread works.  The outputs stay valid until the second
 *    mace_engine_run_async() after theirs starts (two sets alternate).
 * mace_engine_wait() completes the run (MACE_OK if none); after it,
 * mace_engine_get_output() gives its outputs too.  On the CPU backend the
 * run is done when mace_engine_run_async() returns. */
typedef struct MaceFence MaceFence;
MaceStatus mace_engine_run_async (MaceEngine *engine, MaceFence **fence);
MaceStatus mace_engine_wait (MaceEngine *engine);
MaceStatus mace_fence_wait (MaceFence *fence);
const MaceTensor *mace_fence_get_output (const MaceFence *fence, int index);
void mace_fence_free (MaceFence *fence);
/* Message of the last failed call on this engine ("" if none). */
const char *mace_engine_last_error (const MaceEngine *engine);

/* Model facts for `mace-run info`. */
typedef struct {
  int64_t num_nodes;          /* after optimisation */
  int64_t num_nodes_original; /* as in the file */
  int64_t num_parameters;     /* elements of float initializers */
  int64_t planned_peak_bytes; /* activation arena from the memory plan */
  int64_t opset;
} MaceModelInfo;
void mace_engine_get_info (const MaceEngine *engine, MaceModelInfo *info);
/* Op histogram of the original graph: calls func once per op type. */
void mace_engine_foreach_op (const MaceEngine *engine,
                             void (*func) (const char *op_type, int count,
                                           void *user_data),
                             void *user_data);

/* Counters of the OpenCL program cache (all zero on the CPU backend). */
typedef struct {
  int64_t cache_hits;
  int64_t cache_misses;
  int64_t programs_built;
  double compile_ms;
  int64_t rejected_stale;   /* source / options / driver changed */
  int64_t rejected_corrupt; /* checksum, truncation, bad magic */
  int64_t rejected_build;   /* driver refused the binary */
  int64_t nodes_on_cpu;     /* nodes that fell back to the CPU */
  int64_t launches_per_run; /* device enqueues (kernels, copies) per run */
} MaceCacheStats;
void mace_engine_get_cache_stats (const MaceEngine *engine,
                                  MaceCacheStats *stats);

/* Checks whether the ops of a model are supported, without preparing it.
 * Fills `unsupported` with a comma separated list (may be empty). */
MaceStatus mace_model_check_file (const char *path, char *unsupported,
                                  size_t len, MaceError *error);

/* ---- Video frames as model input -------------------------------------- */

/* Pixel formats of MaceFrame.  Packed formats have one plane; I420 has
 * Y, U, V planes (chroma halved in both directions); NV12 has Y and an
 * interleaved UV plane.  YUV is BT.601 limited range. */
typedef enum {
  MACE_FRAME_RGB = 0,
  MACE_FRAME_BGR,
  MACE_FRAME_RGBA,
  MACE_FRAME_BGRA,
  MACE_FRAME_RGBX,
  MACE_FRAME_BGRX,
  MACE_FRAME_I420,
  MACE_FRAME_NV12,
} MaceFrameFormat;

#define MACE_FRAME_MAX_PLANES 3

/* A video frame.  Each plane is given either by a host pointer (data) or,
 * on the OpenCL backend, by a cl_mem (cl_mem, cast to void *) plus a
 * byte offset into it; strides are in bytes.  Nothing is copied or freed
 * by the description itself. */
typedef struct {
  MaceFrameFormat format;
  int32_t width, height;
  const void *data[MACE_FRAME_MAX_PLANES];
  void *cl_mem[MACE_FRAME_MAX_PLANES];
  size_t offset[MACE_FRAME_MAX_PLANES];
  int32_t stride[MACE_FRAME_MAX_PLANES];
} MaceFrame;

typedef enum {
  MACE_TENSOR_NHWC = 0,
  MACE_TENSOR_NCHW = 1,
} MaceTensorLayout;

typedef enum {
  MACE_FIT_STRETCH = 0,   /* source scaled to fill the input */
  MACE_FIT_LETTERBOX = 1, /* aspect kept, centred, padded with black */
  MACE_FIT_NONE = 2,      /* 1:1 at the top-left, the rest padded black */
} MaceFit;

/* Where the source landed in the model input, in model pixels. */
typedef struct {
  double x, y, w, h;
} MaceRect;

/* How a frame becomes the model's input: input value of channel c =
 * (pixel[0..255] - mean[c]) * scale[c], channels in RGB (or BGR) order,
 * bilinear resampling at pixel centres.  crop_* select a source region
 * (crop_w == 0: the whole frame). */
typedef struct {
  MaceTensorLayout layout;
  int32_t bgr;
  float mean[3];
  float scale[3];
  MaceFit fit;
  int32_t crop_x, crop_y, crop_w, crop_h;
} MacePreprocess;

/* Counters of mace_engine_set_input_frame: `copies` counts frame-sized
 * copies actually made (an upload of a host frame to the device, a
 * download of the preprocessed input for a CPU fallback node);
 * `imported` host frames the device read in place (CL_MEM_USE_HOST_PTR);
 * `device_frames` frames given as cl_mem.  `last_zero_copy` is 1 when the
 * last frame reached the model input without a copy. */
typedef struct {
  int64_t frames;
  int64_t copies;
  int64_t bytes_copied;
  int64_t imported;
  int64_t device_frames;
  int32_t last_zero_copy;
} MaceFrameStats;

/* Converts, resizes, normalises and lays out a frame straight into input
 * `index` (a 4-D float32 image input with 3 channels; dynamic height and
 * width take the size of the source region).  On the OpenCL backend this
 * is one kernel writing the input's device buffer; on the CPU it is
 * multithreaded C writing the input tensor.  content (may be NULL)
 * receives where the source landed.  The frame must stay valid until the
 * next mace_engine_run() returns. */
MaceStatus mace_engine_set_input_frame (MaceEngine *engine, int index,
                                        const MaceFrame *frame,
                                        const MacePreprocess *pp,
                                        MaceRect *content);
void mace_engine_get_frame_stats (const MaceEngine *engine,
                                  MaceFrameStats *stats);
/* A default MacePreprocess: NHWC, RGB, mean 0, scale 1, stretch. */
void mace_preprocess_init (MacePreprocess *pp);

/* The OpenCL objects of an engine on the OpenCL backend (cl_context,
 * cl_device_id, cl_command_queue as void *), so a host can allocate
 * buffers the engine reads without a copy.  MACE_ERROR_UNSUPPORTED on
 * the CPU backend.  The handles belong to the engine. */
MaceStatus mace_engine_get_cl_handles (MaceEngine *engine, void **context,
                                       void **device, void **queue);

#ifdef __cplusplus
}
#endif

#endif /* MACE_H */
