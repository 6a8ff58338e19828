/* SPDX-License-Identifier: Apache-2.0 */
/**
 * SECTION:element-macefilter
 * @title: macefilter
 *
 * Runs an ONNX model with libmace on every video frame (or every Nth).
 * Detection models (BlazeFace) attach one GstVideoRegionOfInterestMeta per
 * face with a `detection` structure (normalised box, confidence, label_id,
 * landmarks); image-to-image models (ESRGAN-slim super-resolution) replace
 * the frame, and the output caps follow the model's scale.
 *
 * The model's input normalisation, colour order, layout and decoder come
 * from a config file (`<model>.json` or `<model>.ini` beside the model, or
 * the `config` property); without one they are guessed from the model.
 *
 * ## Example launch lines
 * |[
 * gst-launch-1.0 videotestsrc num-buffers=60 ! video/x-raw,width=640,height=480
 * ! macefilter model=face_detection_front_128x128_barracuda.onnx ! maceoverlay
 * ! fakesink gst-launch-1.0 v4l2src ! videoconvert ! macefilter model=face.onnx
 * message=true ! maceoverlay ! videoconvert ! autovideosink gst-launch-1.0
 * filesrc location=in.mp4 ! decodebin ! videoconvert ! video/x-raw,format=RGB !
 * macefilter model=esrgan-slim-x2.onnx ! videoconvert ! autovideosink
 * ]|
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gstmacefilter.h"

#include <math.h>
#include <string.h>

#include <gst/video/gstvideometa.h>

#include "mace.h"
#include "maceconfig.h"
#include "maceprocess.h"
#ifdef MACE_HAVE_OPENCL
#include <CL/cl.h>

#include "gstmaceclmemory.h"
#endif

GST_DEBUG_CATEGORY_STATIC (gst_mace_filter_debug);
#define GST_CAT_DEFAULT gst_mace_filter_debug

typedef enum {
  GST_MACE_DEVICE_AUTO,
  GST_MACE_DEVICE_GPU,
  GST_MACE_DEVICE_CPU,
} GstMaceDevice;

enum {
  PROP_0,
  PROP_MODEL,
  PROP_CONFIG,
  PROP_DEVICE,
  PROP_CL_DEVICE,
  PROP_THREADS,
  PROP_PROGRAM_CACHE,
  PROP_PROGRAM_CACHE_MODE,
  PROP_PROGRAM_CACHE_BASE,
  PROP_TUNING_CACHE,
  PROP_TUNE,
  PROP_THRESHOLD,
  PROP_IOU_THRESHOLD,
  PROP_MAX_DETECTIONS,
  PROP_INFERENCE_INTERVAL,
  PROP_DROP_WHEN_BUSY,
  PROP_MESSAGE,
  PROP_FRAMES,
  PROP_INFERENCES,
  PROP_MEAN_INFERENCE_MS,
  PROP_COPIES,
  PROP_ZERO_COPY,
  PROP_CACHE_HITS,
  PROP_CACHE_MISSES,
  PROP_TILE_OVERLAP,
  PROP_PIPELINING,
  PROP_PIPELINED,
};

typedef enum {
  GST_MACE_PIPELINING_AUTO,
  GST_MACE_PIPELINING_ON,
  GST_MACE_PIPELINING_OFF,
} GstMacePipelining;

#define DEFAULT_PROP_DEVICE GST_MACE_DEVICE_AUTO
#define DEFAULT_PROP_THREADS 0
#define DEFAULT_PROP_PROGRAM_CACHE_MODE "read-write"
#define DEFAULT_PROP_THRESHOLD 0.5f
#define DEFAULT_PROP_IOU_THRESHOLD 0.3f
#define DEFAULT_PROP_MAX_DETECTIONS 16
#define DEFAULT_PROP_INFERENCE_INTERVAL 1
#define DEFAULT_PROP_DROP_WHEN_BUSY FALSE
#define DEFAULT_PROP_MESSAGE FALSE
#define DEFAULT_PROP_TILE_OVERLAP 8
#define DEFAULT_PROP_PIPELINING GST_MACE_PIPELINING_AUTO
/* Frames the pipelined element holds (submitted or waiting to be pushed)
 * before the upstream thread waits. */
#define PIPE_MAX_QUEUED 3

#define MACE_FORMATS "{ RGB, BGR, RGBA, BGRA, RGBx, BGRx, I420, NV12 }"

static GstStaticPadTemplate sink_template = GST_STATIC_PAD_TEMPLATE (
    "sink", GST_PAD_SINK, GST_PAD_ALWAYS,
    GST_STATIC_CAPS (GST_VIDEO_CAPS_MAKE (MACE_FORMATS)));
static GstStaticPadTemplate src_template = GST_STATIC_PAD_TEMPLATE (
    "src", GST_PAD_SRC, GST_PAD_ALWAYS,
    GST_STATIC_CAPS (GST_VIDEO_CAPS_MAKE (MACE_FORMATS)));

#define MAX_DETECTIONS_LIMIT 256

struct _GstMaceFilter {
  GstVideoFilter parent;

  /* properties */
  gchar *model;
  gchar *config_path;
  GstMaceDevice device;
  gchar *cl_device;
  gint threads;
  gchar *program_cache;
  gchar *program_cache_mode;
  gchar *program_cache_base;
  gchar *tuning_cache;
  gboolean tune;
  gfloat threshold;
  gfloat iou_threshold;
  gint max_detections;
  gint inference_interval;
  gboolean drop_when_busy;
  gboolean message;
  gboolean threshold_set, iou_threshold_set; /* explicitly set by the user */
  gint tile_overlap;

  /* stats */
  guint64 frames;
  guint64 inferences;
  gdouble total_inference_ms;
  guint64 copies;

  /* state, set up in start() */
  GMutex lock;
  MaceEngine *engine;
  MaceModelConfig cfg;
  MaceLayout layout;
  gboolean on_gpu;
  gint in_h, in_w;            /* fixed model input size, 0 = dynamic */
  gint scale;                 /* image models: output / input size */
  gboolean tiled;             /* fixed-input image model run in tiles */
  GstAllocator *cl_allocator; /* CL-backed memory offered upstream */
  GThreadPool *to_frame_pool; /* image models: output frames in bands */
  void *cl_context;
  gboolean last_zero_copy;
  GstStructure *last_tensors; /* tensor decoder: the last outputs */
  MaceAnchors anchors;
  gint score_idx[2], reg_idx[2], n_groups;
  MaceDetection *dets; /* MAX_DETECTIONS_LIMIT entries */
  gint n_dets;
  gboolean have_dets;

  /* Pipelining (see the "Pipelining" section): frames in stream order,
   * pushed by pipe_thread; pipe_lock guards the pipe_* fields. */
  GstMacePipelining pipelining;
  gboolean pipelined; /* on for this run (decided in start()) */
  GMutex pipe_lock;
  GCond pipe_cond;
  GQueue pipe_queue; /* PipeEntry * */
  /* Undecoded inference entries: the engine's last run, and the one
   * before, whose outputs the next run's would overwrite (the engine
   * alternates two sets). */
  struct _PipeEntry *pipe_open, *pipe_prev;
  GThread *pipe_thread;
  gboolean pipe_stop, pipe_flushing;
  GstFlowReturn pipe_flow; /* the first downstream failure */
  gboolean pipe_submitted; /* an inference was started since start() */
};

#define gst_mace_filter_parent_class parent_class
G_DEFINE_TYPE (GstMaceFilter, gst_mace_filter, GST_TYPE_VIDEO_FILTER);
GST_ELEMENT_REGISTER_DEFINE (macefilter, "macefilter", GST_RANK_NONE,
                             GST_TYPE_MACE_FILTER);

#define GST_TYPE_MACE_DEVICE (gst_mace_device_get_type ())
static GType
gst_mace_device_get_type (void)
{
  static GType type = 0;
  static const GEnumValue values[] = {
    { GST_MACE_DEVICE_AUTO,
      "OpenCL GPU (or the cl-device) if one works, else the CPU backend",
      "auto" },
    { GST_MACE_DEVICE_GPU, "OpenCL device (fail if none)", "gpu" },
    { GST_MACE_DEVICE_CPU, "CPU backend", "cpu" },
    { 0, NULL, NULL },
  };
  if (g_once_init_enter (&type)) {
    GType t = g_enum_register_static ("GstMaceDevice", values);
    g_once_init_leave (&type, t);
  }
  return type;
}

#define GST_TYPE_MACE_PIPELINING (gst_mace_pipelining_get_type ())
static GType
gst_mace_pipelining_get_type (void)
{
  static GType type = 0;
  static const GEnumValue values[] = {
    { GST_MACE_PIPELINING_AUTO,
      "On for OpenCL GPUs and accelerators running a detection or tensor "
      "model",
      "auto" },
    { GST_MACE_PIPELINING_ON, "On (detection and tensor models)", "on" },
    { GST_MACE_PIPELINING_OFF,
      "Off: each frame is finished before the next "
      "is taken",
      "off" },
    { 0, NULL, NULL },
  };
  if (g_once_init_enter (&type)) {
    GType t = g_enum_register_static ("GstMacePipelining", values);
    g_once_init_leave (&type, t);
  }
  return type;
}

static void gst_mace_filter_set_property (GObject *object, guint prop_id,
                                          const GValue *value,
                                          GParamSpec *pspec);
static void gst_mace_filter_get_property (GObject *object, guint prop_id,
                                          GValue *value, GParamSpec *pspec);
static void gst_mace_filter_finalize (GObject *object);
static gboolean gst_mace_filter_start (GstBaseTransform *trans);
static gboolean gst_mace_filter_stop (GstBaseTransform *trans);
static GstCaps *gst_mace_filter_transform_caps (GstBaseTransform *trans,
                                                GstPadDirection direction,
                                                GstCaps *caps, GstCaps *filter);
static gboolean gst_mace_filter_set_info (GstVideoFilter *filter,
                                          GstCaps *incaps,
                                          GstVideoInfo *in_info,
                                          GstCaps *outcaps,
                                          GstVideoInfo *out_info);
static gboolean gst_mace_filter_propose_allocation (GstBaseTransform *trans,
                                                    GstQuery *decide_query,
                                                    GstQuery *query);
static GstFlowReturn gst_mace_filter_transform_ip (GstBaseTransform *trans,
                                                   GstBuffer *buf);
static GstFlowReturn gst_mace_filter_transform (GstBaseTransform *trans,
                                                GstBuffer *inbuf,
                                                GstBuffer *outbuf);
static GstFlowReturn gst_mace_filter_generate_output (GstBaseTransform *trans,
                                                      GstBuffer **outbuf);
static gboolean gst_mace_filter_sink_event (GstBaseTransform *trans,
                                            GstEvent *event);
static gboolean gst_mace_filter_query (GstBaseTransform *trans,
                                       GstPadDirection direction,
                                       GstQuery *query);
static void pipe_start (GstMaceFilter *self);
static void pipe_stop (GstMaceFilter *self);

static GstFlowReturn
gst_mace_filter_transform_frame_unused (GstVideoFilter *f, GstVideoFrame *in,
                                        GstVideoFrame *out)
{
  (void)f;
  (void)in;
  (void)out;
  return GST_FLOW_ERROR;
}

static GstFlowReturn
gst_mace_filter_transform_frame_ip_unused (GstVideoFilter *f,
                                           GstVideoFrame *frame)
{
  (void)f;
  (void)frame;
  return GST_FLOW_ERROR;
}

static void
gst_mace_filter_class_init (GstMaceFilterClass *klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS (klass);
  GstElementClass *element_class = GST_ELEMENT_CLASS (klass);
  GstBaseTransformClass *trans_class = GST_BASE_TRANSFORM_CLASS (klass);
  GstVideoFilterClass *vf_class = GST_VIDEO_FILTER_CLASS (klass);
  const GParamFlags rw = G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS;
  const GParamFlags rw_play = rw | GST_PARAM_MUTABLE_PLAYING;
  const GParamFlags ro = G_PARAM_READABLE | G_PARAM_STATIC_STRINGS;

  gobject_class->set_property = gst_mace_filter_set_property;
  gobject_class->get_property = gst_mace_filter_get_property;
  gobject_class->finalize = gst_mace_filter_finalize;

  g_object_class_install_property (
      gobject_class, PROP_MODEL,
      g_param_spec_string ("model", "Model",
                           "Path of the ONNX model file (required)", NULL, rw));
  g_object_class_install_property (
      gobject_class, PROP_CONFIG,
      g_param_spec_string (
          "config", "Config",
          "Model config file (.json or .ini); default: <model>.json or "
          "<model>.ini beside the model if present, else guessed",
          NULL, rw));
  g_object_class_install_property (
      gobject_class, PROP_DEVICE,
      g_param_spec_enum (
          "device", "Device",
          "Where the model runs: auto takes an OpenCL GPU (or the device "
          "cl-device names) and falls back to the CPU with a warning; gpu "
          "requires OpenCL (any device, PoCL included)",
          GST_TYPE_MACE_DEVICE, DEFAULT_PROP_DEVICE, rw));
  g_object_class_install_property (
      gobject_class, PROP_CL_DEVICE,
      g_param_spec_string (
          "cl-device", "OpenCL device",
          "OpenCL device by index (\"0\") or name substring (\"NVIDIA\"); "
          "default: the first GPU, else the first device",
          NULL, rw));
  g_object_class_install_property (
      gobject_class, PROP_THREADS,
      g_param_spec_int ("threads", "Threads",
                        "CPU backend threads (0 = one per core)", 0, 256,
                        DEFAULT_PROP_THREADS, rw));
  g_object_class_install_property (
      gobject_class, PROP_PROGRAM_CACHE,
      g_param_spec_string (
          "program-cache", "Program cache",
          "Path of the compiled OpenCL program cache "
          "(mace-cl-compiled-program.bin); default: "
          "$XDG_CACHE_HOME/gst-mace/mace-cl-compiled-program.bin",
          NULL, rw));
  g_object_class_install_property (
      gobject_class, PROP_PROGRAM_CACHE_MODE,
      g_param_spec_string ("program-cache-mode", "Program cache mode",
                           "read-write, read-only, off or rebuild",
                           DEFAULT_PROP_PROGRAM_CACHE_MODE, rw));
  g_object_class_install_property (
      gobject_class, PROP_PROGRAM_CACHE_BASE,
      g_param_spec_string (
          "program-cache-base", "Program cache base",
          "Read-only compiled-program cache under program-cache (one shipped "
          "with an application): programs program-cache lacks are loaded "
          "from it before anything is built; never written",
          NULL, rw));
  g_object_class_install_property (
      gobject_class, PROP_TUNING_CACHE,
      g_param_spec_string (
          "tuning-cache", "Tuning cache",
          "Path of the OpenCL work-group tuning cache "
          "(mace-cl-tuned-params.bin); default: beside the program cache",
          NULL, rw));
  g_object_class_install_property (
      gobject_class, PROP_TUNE,
      g_param_spec_boolean (
          "tune", "Tune",
          "Tune OpenCL work-group sizes at start-up (slow; results are kept "
          "in the tuning cache)",
          FALSE, rw));
  g_object_class_install_property (
      gobject_class, PROP_THRESHOLD,
      g_param_spec_float ("threshold", "Threshold",
                          "Minimum detection confidence", 0.0f, 1.0f,
                          DEFAULT_PROP_THRESHOLD, rw_play));
  g_object_class_install_property (
      gobject_class, PROP_IOU_THRESHOLD,
      g_param_spec_float (
          "iou-threshold", "IoU threshold",
          "Overlap above which detections are merged (weighted NMS)", 0.0f,
          1.0f, DEFAULT_PROP_IOU_THRESHOLD, rw_play));
  g_object_class_install_property (
      gobject_class, PROP_MAX_DETECTIONS,
      g_param_spec_int ("max-detections", "Max detections",
                        "Most detections attached per frame", 1,
                        MAX_DETECTIONS_LIMIT, DEFAULT_PROP_MAX_DETECTIONS,
                        rw_play));
  g_object_class_install_property (
      gobject_class, PROP_INFERENCE_INTERVAL,
      g_param_spec_int (
          "inference-interval", "Inference interval",
          "Run the model on every Nth frame (1 = every frame); frames in "
          "between carry the last results",
          1, 1000, DEFAULT_PROP_INFERENCE_INTERVAL, rw_play));
  g_object_class_install_property (
      gobject_class, PROP_DROP_WHEN_BUSY,
      g_param_spec_boolean (
          "drop-when-busy", "Drop when busy",
          "Enable QoS: frames that arrive late are dropped instead of "
          "queued",
          DEFAULT_PROP_DROP_WHEN_BUSY, rw_play));
  g_object_class_install_property (
      gobject_class, PROP_MESSAGE,
      g_param_spec_boolean (
          "message", "Message",
          "Post a mace-result element message per inference (timestamp, "
          "inference-ms, detections)",
          DEFAULT_PROP_MESSAGE, rw_play));
  g_object_class_install_property (
      gobject_class, PROP_FRAMES,
      g_param_spec_uint64 ("frames", "Frames", "Frames processed (read-only)",
                           0, G_MAXUINT64, 0, ro));
  g_object_class_install_property (
      gobject_class, PROP_INFERENCES,
      g_param_spec_uint64 ("inferences", "Inferences", "Model runs (read-only)",
                           0, G_MAXUINT64, 0, ro));
  g_object_class_install_property (
      gobject_class, PROP_MEAN_INFERENCE_MS,
      g_param_spec_double (
          "mean-inference-ms", "Mean inference ms",
          "Mean time of a model run incl. pre/post-processing, ms "
          "(read-only)",
          0, G_MAXDOUBLE, 0, ro));
  g_object_class_install_property (
      gobject_class, PROP_COPIES,
      g_param_spec_uint64 (
          "copies", "Copies",
          "Frame-sized copies made between the frame and the model "
          "(read-only)",
          0, G_MAXUINT64, 0, ro));
  g_object_class_install_property (
      gobject_class, PROP_ZERO_COPY,
      g_param_spec_boolean (
          "zero-copy", "Zero copy",
          "Whether frames reach the model without a copy (read-only)", FALSE,
          ro));
  g_object_class_install_property (
      gobject_class, PROP_CACHE_HITS,
      g_param_spec_uint64 (
          "cache-hits", "Cache hits",
          "OpenCL programs loaded from the program cache (read-only)", 0,
          G_MAXUINT64, 0, ro));
  g_object_class_install_property (
      gobject_class, PROP_CACHE_MISSES,
      g_param_spec_uint64 ("cache-misses", "Cache misses",
                           "OpenCL programs built from source (read-only)", 0,
                           G_MAXUINT64, 0, ro));

  g_object_class_install_property (
      gobject_class, PROP_TILE_OVERLAP,
      g_param_spec_int (
          "tile-overlap", "Tile overlap",
          "Fixed-input image models process larger frames in tiles of the "
          "model's input size; tiles overlap by this many input pixels on "
          "each side (at most a little under half the tile)",
          0, 1024, DEFAULT_PROP_TILE_OVERLAP, rw));
  g_object_class_install_property (
      gobject_class, PROP_PIPELINING,
      g_param_spec_enum (
          "pipelining", "Pipelining",
          "Overlap the host's work with the device's: while the device runs "
          "a frame, the next one is preprocessed and queued behind it, and "
          "a thread of the element's own pushes each frame the moment its "
          "results are in (no frame waits for the next one; at most 3 are "
          "held).  Raises throughput, not latency.  auto: on for an OpenCL "
          "GPU or accelerator.  Image-to-image models always run one frame "
          "at a time",
          GST_TYPE_MACE_PIPELINING, DEFAULT_PROP_PIPELINING, rw));
  g_object_class_install_property (
      gobject_class, PROP_PIPELINED,
      g_param_spec_boolean ("pipelined", "Pipelined",
                            "Whether this run pipelines frames (see "
                            "pipelining)",
                            FALSE, ro));

  gst_element_class_set_static_metadata (
      element_class, "MACE neural network filter", "Filter/Effect/Video",
      "Runs an ONNX model on video frames with libmace (CPU or OpenCL): "
      "detections as region-of-interest metadata, or image-to-image output",
      "gst-mace developers");
  gst_element_class_add_static_pad_template (element_class, &sink_template);
  gst_element_class_add_static_pad_template (element_class, &src_template);

  trans_class->start = GST_DEBUG_FUNCPTR (gst_mace_filter_start);
  trans_class->stop = GST_DEBUG_FUNCPTR (gst_mace_filter_stop);
  trans_class->transform_caps
      = GST_DEBUG_FUNCPTR (gst_mace_filter_transform_caps);
  trans_class->propose_allocation
      = GST_DEBUG_FUNCPTR (gst_mace_filter_propose_allocation);
  vf_class->set_info = GST_DEBUG_FUNCPTR (gst_mace_filter_set_info);
  /* Buffers, not mapped frames: CL-backed memory goes to the device
   * without being mapped. */
  trans_class->transform_ip = GST_DEBUG_FUNCPTR (gst_mace_filter_transform_ip);
  trans_class->transform = GST_DEBUG_FUNCPTR (gst_mace_filter_transform);
  trans_class->generate_output
      = GST_DEBUG_FUNCPTR (gst_mace_filter_generate_output);
  trans_class->sink_event = GST_DEBUG_FUNCPTR (gst_mace_filter_sink_event);
  trans_class->query = GST_DEBUG_FUNCPTR (gst_mace_filter_query);
  /* Never called (the buffer functions above replace them), but their
   * presence tells GstVideoFilter::set_caps not to force in-place mode. */
  vf_class->transform_frame = gst_mace_filter_transform_frame_unused;
  vf_class->transform_frame_ip = gst_mace_filter_transform_frame_ip_unused;

  GST_DEBUG_CATEGORY_INIT (gst_mace_filter_debug, "macefilter", 0,
                           "MACE neural network filter");
  gst_type_mark_as_plugin_api (GST_TYPE_MACE_DEVICE, 0);
  gst_type_mark_as_plugin_api (GST_TYPE_MACE_PIPELINING, 0);
  /* The tensor decoder's raw outputs: one GstStructure per buffer. */
  static const gchar *tensor_tags[] = { NULL };
  if (!gst_meta_get_info ("MaceTensorMeta"))
    gst_meta_register_custom ("MaceTensorMeta", tensor_tags, NULL, NULL, NULL);
}

static void
gst_mace_filter_init (GstMaceFilter *self)
{
  self->device = DEFAULT_PROP_DEVICE;
  self->threads = DEFAULT_PROP_THREADS;
  self->program_cache_mode = g_strdup (DEFAULT_PROP_PROGRAM_CACHE_MODE);
  self->threshold = DEFAULT_PROP_THRESHOLD;
  self->iou_threshold = DEFAULT_PROP_IOU_THRESHOLD;
  self->max_detections = DEFAULT_PROP_MAX_DETECTIONS;
  self->inference_interval = DEFAULT_PROP_INFERENCE_INTERVAL;
  self->drop_when_busy = DEFAULT_PROP_DROP_WHEN_BUSY;
  self->message = DEFAULT_PROP_MESSAGE;
  self->tile_overlap = DEFAULT_PROP_TILE_OVERLAP;
  self->pipelining = DEFAULT_PROP_PIPELINING;
  g_mutex_init (&self->lock);
  g_mutex_init (&self->pipe_lock);
  g_cond_init (&self->pipe_cond);
  g_queue_init (&self->pipe_queue);
  self->dets = g_new0 (MaceDetection, MAX_DETECTIONS_LIMIT);
  mace_model_config_init (&self->cfg);
  gst_base_transform_set_qos_enabled (GST_BASE_TRANSFORM (self), FALSE);
}

static void
gst_mace_filter_finalize (GObject *object)
{
  GstMaceFilter *self = GST_MACE_FILTER (object);
  g_free (self->model);
  g_free (self->config_path);
  g_free (self->cl_device);
  g_free (self->program_cache);
  g_free (self->program_cache_mode);
  g_free (self->program_cache_base);
  g_free (self->tuning_cache);
  mace_model_config_clear (&self->cfg);
  g_free (self->dets);
  g_mutex_clear (&self->lock);
  g_mutex_clear (&self->pipe_lock);
  g_cond_clear (&self->pipe_cond);
  G_OBJECT_CLASS (parent_class)->finalize (object);
}

static void
set_string (gchar **dst, const GValue *value)
{
  g_free (*dst);
  *dst = g_value_dup_string (value);
}

static void
gst_mace_filter_set_property (GObject *object, guint prop_id,
                              const GValue *value, GParamSpec *pspec)
{
  GstMaceFilter *self = GST_MACE_FILTER (object);
  g_mutex_lock (&self->lock);
  switch (prop_id) {
    case PROP_MODEL: set_string (&self->model, value); break;
    case PROP_CONFIG: set_string (&self->config_path, value); break;
    case PROP_DEVICE: self->device = g_value_get_enum (value); break;
    case PROP_CL_DEVICE: set_string (&self->cl_device, value); break;
    case PROP_THREADS: self->threads = g_value_get_int (value); break;
    case PROP_PROGRAM_CACHE: set_string (&self->program_cache, value); break;
    case PROP_PROGRAM_CACHE_BASE:
      set_string (&self->program_cache_base, value);
      break;
    case PROP_PROGRAM_CACHE_MODE:
      set_string (&self->program_cache_mode, value);
      break;
    case PROP_TUNING_CACHE: set_string (&self->tuning_cache, value); break;
    case PROP_TUNE: self->tune = g_value_get_boolean (value); break;
    case PROP_THRESHOLD:
      self->threshold = g_value_get_float (value);
      self->threshold_set = TRUE;
      break;
    case PROP_IOU_THRESHOLD:
      self->iou_threshold = g_value_get_float (value);
      self->iou_threshold_set = TRUE;
      break;
    case PROP_MAX_DETECTIONS:
      self->max_detections = g_value_get_int (value);
      break;
    case PROP_INFERENCE_INTERVAL:
      self->inference_interval = g_value_get_int (value);
      break;
    case PROP_DROP_WHEN_BUSY:
      self->drop_when_busy = g_value_get_boolean (value);
      gst_base_transform_set_qos_enabled (GST_BASE_TRANSFORM (self),
                                          self->drop_when_busy);
      break;
    case PROP_MESSAGE: self->message = g_value_get_boolean (value); break;
    case PROP_TILE_OVERLAP: self->tile_overlap = g_value_get_int (value); break;
    case PROP_PIPELINING: self->pipelining = g_value_get_enum (value); break;
    default: G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec); break;
  }
  g_mutex_unlock (&self->lock);
}

static void
gst_mace_filter_get_property (GObject *object, guint prop_id, GValue *value,
                              GParamSpec *pspec)
{
  GstMaceFilter *self = GST_MACE_FILTER (object);
  MaceCacheStats cs = { 0 };
  g_mutex_lock (&self->lock);
  if (self->engine
      && (prop_id == PROP_CACHE_HITS || prop_id == PROP_CACHE_MISSES))
    mace_engine_get_cache_stats (self->engine, &cs);
  switch (prop_id) {
    case PROP_MODEL: g_value_set_string (value, self->model); break;
    case PROP_CONFIG: g_value_set_string (value, self->config_path); break;
    case PROP_DEVICE: g_value_set_enum (value, self->device); break;
    case PROP_CL_DEVICE: g_value_set_string (value, self->cl_device); break;
    case PROP_THREADS: g_value_set_int (value, self->threads); break;
    case PROP_PROGRAM_CACHE:
      g_value_set_string (value, self->program_cache);
      break;
    case PROP_PROGRAM_CACHE_BASE:
      g_value_set_string (value, self->program_cache_base);
      break;
    case PROP_PROGRAM_CACHE_MODE:
      g_value_set_string (value, self->program_cache_mode);
      break;
    case PROP_TUNING_CACHE:
      g_value_set_string (value, self->tuning_cache);
      break;
    case PROP_TUNE: g_value_set_boolean (value, self->tune); break;
    case PROP_THRESHOLD: g_value_set_float (value, self->threshold); break;
    case PROP_IOU_THRESHOLD:
      g_value_set_float (value, self->iou_threshold);
      break;
    case PROP_MAX_DETECTIONS:
      g_value_set_int (value, self->max_detections);
      break;
    case PROP_INFERENCE_INTERVAL:
      g_value_set_int (value, self->inference_interval);
      break;
    case PROP_DROP_WHEN_BUSY:
      g_value_set_boolean (value, self->drop_when_busy);
      break;
    case PROP_MESSAGE: g_value_set_boolean (value, self->message); break;
    case PROP_TILE_OVERLAP: g_value_set_int (value, self->tile_overlap); break;
    case PROP_PIPELINING: g_value_set_enum (value, self->pipelining); break;
    case PROP_PIPELINED: g_value_set_boolean (value, self->pipelined); break;
    case PROP_FRAMES: g_value_set_uint64 (value, self->frames); break;
    case PROP_INFERENCES: g_value_set_uint64 (value, self->inferences); break;
    case PROP_MEAN_INFERENCE_MS:
      g_value_set_double (value, self->inferences ? self->total_inference_ms
                                                        / self->inferences
                                                  : 0.0);
      break;
    case PROP_COPIES: g_value_set_uint64 (value, self->copies); break;
    case PROP_ZERO_COPY:
      g_value_set_boolean (value, self->inferences > 0 && self->copies == 0
                                      && self->last_zero_copy);
      break;
    case PROP_CACHE_HITS:
      g_value_set_uint64 (value, (guint64)cs.cache_hits);
      break;
    case PROP_CACHE_MISSES:
      g_value_set_uint64 (value, (guint64)cs.cache_misses);
      break;
    default: G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec); break;
  }
  g_mutex_unlock (&self->lock);
}

/* ---- set-up ----------------------------------------------------------- */

static MaceEngine *
load_engine (GstMaceFilter *self, gboolean gpu, const char *dyn_input,
             int dyn_h, int dyn_w, MaceError *err)
{
  MaceConfig *c = mace_config_new ();
  mace_config_set_threads (c, self->threads);
  if (gpu) {
    mace_config_set_backend (c, MACE_BACKEND_OPENCL);
    if (self->cl_device)
      mace_config_set_cl_device (c, self->cl_device);
    mace_config_set_program_cache (c, self->program_cache,
                                   self->program_cache_mode);
    mace_config_set_program_cache_base (c, self->program_cache_base);
    mace_config_set_tuning_cache (c, self->tuning_cache, self->tune);
  }
  if (dyn_input) {
    int64_t dims[4] = { 1, dyn_h, dyn_w, 3 };
    if (self->layout == MACE_LAYOUT_NCHW) {
      dims[1] = 3;
      dims[2] = dyn_h;
      dims[3] = dyn_w;
    }
    mace_config_set_input_shape (c, dyn_input, 4, dims);
  }
  MaceEngine *e = mace_engine_load_file (self->model, c, err);
  mace_config_free (c);
  return e;
}

static void
post_progress (GstMaceFilter *self, const char *stage, const char *detail)
{
  GstStructure *s
      = gst_structure_new ("mace-progress", "stage", G_TYPE_STRING, stage,
                           "detail", G_TYPE_STRING, detail, NULL);
  gst_element_post_message (GST_ELEMENT (self),
                            gst_message_new_element (GST_OBJECT (self), s));
}

static gboolean probe_output (GstMaceFilter *self, int64_t *od, int *ond,
                              GError **error);

/* Decides decoder, layout and the output groups from the model. */
static gboolean
inspect_model (GstMaceFilter *self, GError **error)
{
  MaceEngine *e = self->engine;
  MaceDataType dt;
  int64_t dims[MACE_MAX_DIMS];
  if (mace_engine_num_inputs (e) != 1) {
    g_set_error (error, GST_STREAM_ERROR, GST_STREAM_ERROR_FORMAT,
                 "%s: macefilter needs a model with one image input, this one "
                 "has %d inputs",
                 self->model, mace_engine_num_inputs (e));
    return FALSE;
  }
  int nd = mace_engine_input_info (e, 0, &dt, dims);
  if (nd != 4 || dt != MACE_DTYPE_FLOAT32) {
    g_set_error (error, GST_STREAM_ERROR, GST_STREAM_ERROR_FORMAT,
                 "%s: input '%s' must be a 4-D float32 image tensor",
                 self->model, mace_engine_input_name (e, 0));
    return FALSE;
  }
  if (self->cfg.layout == MACE_LAYOUT_AUTO)
    self->layout = dims[1] == 3 ? MACE_LAYOUT_NCHW : MACE_LAYOUT_NHWC;
  else
    self->layout = self->cfg.layout;
  int ch = (int)(self->layout == MACE_LAYOUT_NCHW ? dims[1] : dims[3]);
  if (ch != 3 && ch != -1) {
    g_set_error (error, GST_STREAM_ERROR, GST_STREAM_ERROR_FORMAT,
                 "%s: input '%s' has %d channels; macefilter feeds 3 (RGB)",
                 self->model, mace_engine_input_name (e, 0), ch);
    return FALSE;
  }
  self->in_h = (int)(self->layout == MACE_LAYOUT_NCHW ? dims[2] : dims[1]);
  self->in_w = (int)(self->layout == MACE_LAYOUT_NCHW ? dims[3] : dims[2]);
  if (self->in_h < 0 || self->in_w < 0)
    self->in_h = self->in_w = 0;

  /* Outputs: BlazeFace-style groups are [1, N, 1] scores and [1, N, R]
   * regressors with R = 4 + 2 * keypoints. */
  int n_out = mace_engine_num_outputs (e);
  int scores[4], regs[4], ns = 0, nr = 0;
  int64_t sn[4] = { 0 }, rn[4] = { 0 };
  for (int i = 0; i < n_out && i < 4; i++) {
    int64_t od[MACE_MAX_DIMS];
    int ond = mace_engine_output_info (e, i, &dt, od);
    if (ond == 3 && od[2] == 1 && ns < 4) {
      sn[ns] = od[1];
      scores[ns++] = i;
    } else if (ond == 3 && od[2] >= 4 && nr < 4) {
      rn[nr] = od[1];
      regs[nr++] = i;
    }
  }
  gboolean looks_blazeface = ns >= 1 && ns == nr && ns <= 2 && n_out == 2 * ns;
  MaceDecoderType dec = self->cfg.decoder;
  if (dec == MACE_DECODER_AUTO) {
    if (looks_blazeface) {
      dec = MACE_DECODER_BLAZEFACE;
    } else if (n_out == 1) {
      /* One 3-channel 4-D output is an image; anything else a tensor. */
      int64_t od[MACE_MAX_DIMS];
      int ond = mace_engine_output_info (e, 0, &dt, od);
      if (ond == 4 && self->in_h == 0 && !probe_output (self, od, &ond, error))
        return FALSE;
      int och = ond == 4
                    ? (int)(self->layout == MACE_LAYOUT_NCHW ? od[1] : od[3])
                    : 0;
      dec = och == 3 ? MACE_DECODER_IMAGE : MACE_DECODER_TENSOR;
    } else {
      dec = MACE_DECODER_TENSOR;
    }
    /* Guessed normalisation when no config says otherwise. */
    if (!self->cfg.path && dec == MACE_DECODER_BLAZEFACE)
      for (int k = 0; k < 3; k++) {
        self->cfg.scale[k] = 2.0f / 255.0f;
        self->cfg.mean[k] = 127.5f;
      }
    self->cfg.decoder = dec;
  }
  if (dec == MACE_DECODER_BLAZEFACE) {
    if (!looks_blazeface || self->in_h == 0) {
      g_set_error (error, GST_STREAM_ERROR, GST_STREAM_ERROR_FORMAT,
                   "%s: the blazeface decoder wants a fixed input size and "
                   "pairs of [1,N,1] score / [1,N,4+2K] regressor outputs",
                   self->model);
      return FALSE;
    }
    /* Order groups by anchor count, largest first (finest grid). */
    self->n_groups = ns;
    for (int g = 0; g < ns; g++) {
      int best = g;
      for (int j = g + 1; j < ns; j++)
        if (sn[j] > sn[best])
          best = j;
      int t = scores[g];
      scores[g] = scores[best];
      scores[best] = t;
      int64_t tn = sn[g];
      sn[g] = sn[best];
      sn[best] = tn;
      self->score_idx[g] = scores[g];
    }
    for (int g = 0; g < ns; g++)
      for (int j = 0; j < nr; j++)
        if (rn[j] == sn[g])
          self->reg_idx[g] = regs[j];
    int64_t want = sn[0] + (ns > 1 ? sn[1] : 0);
    mace_anchors_build (&self->anchors, &self->cfg, self->in_h, self->in_w);
    /* Without a config, try the two MediaPipe BlazeFace anchor layouts
     * (front: strides 8,16,16,16; back: 16,32,32,32). */
    if (!self->cfg.path && self->anchors.n_anchors != (int)want) {
      static const int layouts[2][4]
          = { { 8, 16, 16, 16 }, { 16, 32, 32, 32 } };
      for (int l = 0; l < 2 && self->anchors.n_anchors != (int)want; l++) {
        self->cfg.n_strides = 4;
        memcpy (self->cfg.strides, layouts[l], sizeof layouts[l]);
        mace_anchors_clear (&self->anchors);
        mace_anchors_build (&self->anchors, &self->cfg, self->in_h, self->in_w);
      }
    }
    if (self->anchors.n_anchors != (int)want) {
      g_set_error (error, GST_STREAM_ERROR, GST_STREAM_ERROR_FORMAT,
                   "%s: the anchor config gives %d anchors but the model has "
                   "%lld (set strides in the model config)",
                   self->model, self->anchors.n_anchors,
                   (long long)(sn[0] + (ns > 1 ? sn[1] : 0)));
      return FALSE;
    }
  } else if (dec == MACE_DECODER_IMAGE) {
    if (n_out != 1) {
      g_set_error (error, GST_STREAM_ERROR, GST_STREAM_ERROR_FORMAT,
                   "%s: the image decoder wants exactly one output",
                   self->model);
      return FALSE;
    }
    self->scale = 1;
    self->tiled = FALSE;
    if (self->in_h > 0) {
      /* Fixed input: frames go through in tiles of the model's size and
       * the output keeps the model's scale. */
      int64_t od[MACE_MAX_DIMS];
      int ond = mace_engine_output_info (e, 0, &dt, od);
      int oh = ond == 4
                   ? (int)(self->layout == MACE_LAYOUT_NCHW ? od[2] : od[1])
                   : -1;
      int ow = ond == 4
                   ? (int)(self->layout == MACE_LAYOUT_NCHW ? od[3] : od[2])
                   : -1;
      if (oh <= 0 || oh % self->in_h != 0
          || ow != oh / self->in_h * self->in_w) {
        g_set_error (error, GST_STREAM_ERROR, GST_STREAM_ERROR_FORMAT,
                     "%s: the image decoder wants an output that is an "
                     "integer multiple of the %dx%d input",
                     self->model, self->in_w, self->in_h);
        return FALSE;
      }
      self->scale = oh / self->in_h;
      self->tiled = TRUE;
    }
  }
  return TRUE;
}

/* For dynamic image models: the output/input size ratio, from a small
 * probe shape. */
/* Dynamic-size models are probed with a square input this big: a multiple
 * of 32, which detection and segmentation backbones need. */
#define PROBE_SIZE 64

static gboolean
probe_output (GstMaceFilter *self, int64_t *od, int *ond, GError **error)
{
  MaceError err = { 0 };
  MaceEngine *p
      = load_engine (self, FALSE, mace_engine_input_name (self->engine, 0),
                     PROBE_SIZE, PROBE_SIZE, &err);
  if (!p) {
    g_set_error (error, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_SETTINGS,
                 "%s: cannot prepare the model for a %dx%d input: %s",
                 self->model, PROBE_SIZE, PROBE_SIZE, err.message);
    return FALSE;
  }
  MaceDataType dt;
  *ond = mace_engine_output_info (p, 0, &dt, od);
  mace_engine_free (p);
  return TRUE;
}

static gboolean
probe_scale (GstMaceFilter *self, GError **error)
{
  int64_t od[MACE_MAX_DIMS];
  int nd;
  if (!probe_output (self, od, &nd, error))
    return FALSE;
  int oh
      = nd == 4 ? (int)(self->layout == MACE_LAYOUT_NCHW ? od[2] : od[1]) : -1;
  int ow
      = nd == 4 ? (int)(self->layout == MACE_LAYOUT_NCHW ? od[3] : od[2]) : -1;
  if (oh <= 0 || oh % PROBE_SIZE != 0 || ow != oh) {
    g_set_error (error, GST_STREAM_ERROR, GST_STREAM_ERROR_FORMAT,
                 "%s: cannot tell the output scale of this image model "
                 "(a %dx%d input gives %dx%d)",
                 self->model, PROBE_SIZE, PROBE_SIZE, ow, oh);
    return FALSE;
  }
  self->scale = oh / PROBE_SIZE;
  return TRUE;
}

/* Whether the engine's OpenCL device is a GPU or an accelerator (not a
 * CPU device such as PoCL's, whose cores the host's work would take). */
static gboolean
device_is_gpu (GstMaceFilter *self)
{
#ifdef MACE_HAVE_OPENCL
  void *dev = NULL;
  cl_device_type type = 0;
  if (mace_engine_get_cl_handles (self->engine, NULL, &dev, NULL) != MACE_OK
      || clGetDeviceInfo ((cl_device_id)dev, CL_DEVICE_TYPE, sizeof type, &type,
                          NULL)
             != CL_SUCCESS)
    return FALSE;
  return (type & (CL_DEVICE_TYPE_GPU | CL_DEVICE_TYPE_ACCELERATOR)) != 0;
#else
  (void)self;
  return FALSE;
#endif
}

static gboolean
gst_mace_filter_start (GstBaseTransform *trans)
{
  GstMaceFilter *self = GST_MACE_FILTER (trans);
  GError *gerr = NULL;
  MaceError err = { 0 };
  gchar *cfg_path = NULL;

  if (!self->model || !self->model[0])
    goto no_model;
  if (!g_file_test (self->model, G_FILE_TEST_IS_REGULAR))
    goto model_missing;

  mace_model_config_clear (&self->cfg);
  mace_model_config_init (&self->cfg);
  cfg_path = self->config_path ? g_strdup (self->config_path)
                               : mace_model_config_find (self->model);
  if (cfg_path && !mace_model_config_load (&self->cfg, cfg_path, &gerr))
    goto bad_config;

  /* The config's thresholds apply unless the properties were set. */
  if (cfg_path && !self->threshold_set)
    self->threshold = self->cfg.score_threshold;
  if (cfg_path && !self->iou_threshold_set)
    self->iou_threshold = self->cfg.iou_threshold;
  post_progress (self, "loading", self->model);
  self->on_gpu = FALSE;
  /* auto: an OpenCL GPU (or accelerator), or the device cl-device names;
   * an OpenCL CPU device (PoCL) only when asked for with device=gpu: the
   * CPU backend is many times faster on the same cores. */
  gboolean auto_cpu = self->device == GST_MACE_DEVICE_AUTO && !self->cl_device
                      && mace_opencl_device_count (1) == 0;
  if (auto_cpu) {
    int n_cl = mace_opencl_device_count (0);
    GST_ELEMENT_WARNING (
        self, LIBRARY, INIT, ("No OpenCL GPU, running on the CPU"),
        ("%s", n_cl ? "only OpenCL CPU devices (device=gpu uses them; the CPU "
                      "backend is faster there)"
                    : "no OpenCL device found"));
  }
  if (self->device != GST_MACE_DEVICE_CPU && !auto_cpu) {
    self->engine = load_engine (self, TRUE, NULL, 0, 0, &err);
    if (self->engine) {
      self->on_gpu = TRUE;
    } else if (err.status == MACE_ERROR_IO || err.status == MACE_ERROR_PARSE
               || err.status == MACE_ERROR_INVALID_MODEL) {
      goto load_failed;
    } else if (self->device == GST_MACE_DEVICE_GPU) {
      goto no_device;
    } else {
      GST_ELEMENT_WARNING (self, LIBRARY, INIT,
                           ("No usable OpenCL device, running on the CPU"),
                           ("%s", err.message));
    }
  }
  if (!self->engine) {
    self->engine = load_engine (self, FALSE, NULL, 0, 0, &err);
    if (!self->engine)
      goto load_failed;
  }
  if (!inspect_model (self, &gerr))
    goto bad_model;
  if (self->cfg.decoder == MACE_DECODER_IMAGE && self->in_h == 0
      && !probe_scale (self, &gerr))
    goto bad_model;
  {
    MaceCacheStats cs;
    mace_engine_get_cache_stats (self->engine, &cs);
    gchar *d = g_strdup_printf (
        "%s on %s, decoder %s; program cache: %lld hits, %lld built, %lld "
        "rejected",
        self->model, self->on_gpu ? "OpenCL" : "CPU",
        mace_decoder_type_name (self->cfg.decoder), (long long)cs.cache_hits,
        (long long)cs.programs_built,
        (long long)(cs.rejected_stale + cs.rejected_corrupt
                    + cs.rejected_build));
    GST_INFO_OBJECT (self, "%s", d);
    post_progress (self, "ready", d);
    g_free (d);
  }
#ifdef MACE_HAVE_OPENCL
  if (self->on_gpu) {
    void *ctx = NULL, *dev = NULL;
    if (mace_engine_get_cl_handles (self->engine, &ctx, &dev, NULL)
        == MACE_OK) {
      self->cl_allocator = gst_mace_cl_allocator_new (ctx, dev);
      self->cl_context = ctx;
    }
  }
#endif
  self->frames = self->inferences = self->copies = 0;
  self->last_zero_copy = FALSE;
  self->total_inference_ms = 0;
  self->have_dets = FALSE;
  self->n_dets = 0;
  self->pipelined = self->cfg.decoder != MACE_DECODER_IMAGE
                    && (self->pipelining == GST_MACE_PIPELINING_ON
                        || (self->pipelining == GST_MACE_PIPELINING_AUTO
                            && self->on_gpu && device_is_gpu (self)));
  GST_INFO_OBJECT (self, "pipelining %s", self->pipelined ? "on" : "off");
  if (self->cfg.decoder == MACE_DECODER_IMAGE)
    self->to_frame_pool = mace_to_frame_pool_new ();
  if (self->pipelined)
    pipe_start (self);
  g_free (cfg_path);
  return TRUE;

  /* ERRORS */
no_model:
  GST_ELEMENT_ERROR (self, RESOURCE, NOT_FOUND, ("No model given"),
                     ("set the 'model' property to an ONNX file"));
  return FALSE;
model_missing:
  GST_ELEMENT_ERROR (self, RESOURCE, NOT_FOUND,
                     ("Model file %s does not exist", self->model), (NULL));
  return FALSE;
bad_config:
  GST_ELEMENT_ERROR (self, RESOURCE, SETTINGS,
                     ("Bad model config %s", cfg_path), ("%s", gerr->message));
  g_clear_error (&gerr);
  g_free (cfg_path);
  return FALSE;
no_device:
  GST_ELEMENT_ERROR (self, LIBRARY, INIT,
                     ("No usable OpenCL device for %s", self->model),
                     ("%s", err.message));
  g_free (cfg_path);
  return FALSE;
load_failed:
  GST_ELEMENT_ERROR (self, RESOURCE, READ,
                     ("Cannot load model %s: %s", self->model, err.message),
                     ("status: %s", mace_status_to_string (err.status)));
  g_free (cfg_path);
  return FALSE;
bad_model:
  GST_ELEMENT_ERROR (self, STREAM, FORMAT, ("%s", gerr->message), (NULL));
  g_clear_error (&gerr);
  g_free (cfg_path);
  mace_engine_free (self->engine);
  self->engine = NULL;
  return FALSE;
}

static gboolean
gst_mace_filter_stop (GstBaseTransform *trans)
{
  GstMaceFilter *self = GST_MACE_FILTER (trans);
  pipe_stop (self);
  self->pipelined = FALSE;
  if (self->to_frame_pool)
    g_thread_pool_free (self->to_frame_pool, FALSE, TRUE);
  self->to_frame_pool = NULL;
  g_mutex_lock (&self->lock);
  mace_engine_free (self->engine);
  self->engine = NULL;
  if (self->cl_allocator)
    gst_object_unref (self->cl_allocator);
  self->cl_allocator = NULL;
  self->cl_context = NULL;
  if (self->last_tensors)
    gst_structure_free (self->last_tensors);
  self->last_tensors = NULL;
  g_mutex_unlock (&self->lock);
  mace_anchors_clear (&self->anchors);
  return TRUE;
}

/* ---- caps ------------------------------------------------------------- */

static GstCaps *
gst_mace_filter_transform_caps (GstBaseTransform *trans,
                                GstPadDirection direction, GstCaps *caps,
                                GstCaps *filter)
{
  GstMaceFilter *self = GST_MACE_FILTER (trans);
  GstCaps *ret;
  gboolean image = self->engine && self->cfg.decoder == MACE_DECODER_IMAGE;
  if (!image) {
    ret = gst_caps_ref (caps);
  } else {
    ret = gst_caps_new_empty ();
    for (guint i = 0; i < gst_caps_get_size (caps); i++) {
      GstStructure *s = gst_structure_copy (gst_caps_get_structure (caps, i));
      const char *names[2] = { "width", "height" };
      int fixed[2] = { self->in_w * self->scale, self->in_h * self->scale };
      for (int k = 0; k < 2; k++) {
        const GValue *v = gst_structure_get_value (s, names[k]);
        if (!v)
          continue;
        if (self->in_h > 0 && !self->tiled) {
          /* Fixed-size model: output is the model's output size. */
          if (direction == GST_PAD_SINK)
            gst_structure_set (s, names[k], G_TYPE_INT, fixed[k], NULL);
          else
            gst_structure_set (s, names[k], GST_TYPE_INT_RANGE, 1, G_MAXINT,
                               NULL);
        } else if (G_VALUE_HOLDS_INT (v)) {
          int x = g_value_get_int (v);
          if (direction == GST_PAD_SINK)
            gst_structure_set (s, names[k], G_TYPE_INT, x * self->scale, NULL);
          else if (x % self->scale == 0)
            gst_structure_set (s, names[k], G_TYPE_INT, x / self->scale, NULL);
          else {
            gst_structure_free (s);
            s = NULL;
            break;
          }
        } else {
          /* Ranges: scale the bounds. */
          int lo = 1, hi = G_MAXINT;
          if (GST_VALUE_HOLDS_INT_RANGE (v)) {
            lo = gst_value_get_int_range_min (v);
            hi = gst_value_get_int_range_max (v);
          }
          if (direction == GST_PAD_SINK)
            gst_structure_set (
                s, names[k], GST_TYPE_INT_RANGE,
                MIN (lo, G_MAXINT / self->scale) * self->scale,
                MAX (MIN (hi, G_MAXINT / self->scale) * self->scale, 1), NULL);
          else
            gst_structure_set (s, names[k], GST_TYPE_INT_RANGE,
                               MAX (lo / self->scale, 1),
                               MAX (hi / self->scale, 1), NULL);
        }
      }
      if (s)
        ret = gst_caps_merge_structure (ret, s);
    }
  }
  if (filter) {
    GstCaps *t
        = gst_caps_intersect_full (filter, ret, GST_CAPS_INTERSECT_FIRST);
    gst_caps_unref (ret);
    ret = t;
  }
  GST_DEBUG_OBJECT (self, "transformed %" GST_PTR_FORMAT " -> %" GST_PTR_FORMAT,
                    caps, ret);
  return ret;
}

static gboolean
gst_mace_filter_set_info (GstVideoFilter *filter, GstCaps *incaps,
                          GstVideoInfo *in_info, GstCaps *outcaps,
                          GstVideoInfo *out_info)
{
  GstMaceFilter *self = GST_MACE_FILTER (filter);
  (void)incaps;
  (void)outcaps;
  if (!self->engine)
    return FALSE;
  if (!mace_format_supported (GST_VIDEO_INFO_FORMAT (in_info)))
    goto bad_format;
  gboolean image = self->cfg.decoder == MACE_DECODER_IMAGE;
  gst_base_transform_set_in_place (GST_BASE_TRANSFORM (self), !image);
  gst_base_transform_set_passthrough (GST_BASE_TRANSFORM (self), FALSE);
  if (image
      && GST_VIDEO_INFO_FORMAT (in_info) != GST_VIDEO_INFO_FORMAT (out_info))
    goto bad_format;
  /* The model input follows the negotiated size: a dynamic model is
   * re-prepared by the engine at the first frame of the new size. */
  int h = self->in_h ? self->in_h : GST_VIDEO_INFO_HEIGHT (in_info);
  int w = self->in_w ? self->in_w : GST_VIDEO_INFO_WIDTH (in_info);
  self->have_dets = FALSE;
  GST_INFO_OBJECT (
      self, "negotiated %dx%d %s -> %dx%d, model input %dx%d",
      GST_VIDEO_INFO_WIDTH (in_info), GST_VIDEO_INFO_HEIGHT (in_info),
      GST_VIDEO_INFO_NAME (in_info), GST_VIDEO_INFO_WIDTH (out_info),
      GST_VIDEO_INFO_HEIGHT (out_info), w, h);
  return TRUE;

  /* ERRORS */
bad_format:
  GST_ELEMENT_ERROR (self, CORE, NEGOTIATION,
                     ("Unsupported caps %" GST_PTR_FORMAT, incaps), (NULL));
  return FALSE;
}

/* ---- processing ------------------------------------------------------- */

/* A frame as libmace sees it: the cl_mem of CL-backed memory (not
 * mapped), else the planes of the mapped buffer. */
typedef struct {
  MaceFrame f;
  GstVideoFrame vframe;
  gboolean mapped;
} FrameIn;

static MaceFrameFormat
to_mace_format (GstVideoFormat f)
{
  switch (f) {
    case GST_VIDEO_FORMAT_BGR: return MACE_FRAME_BGR;
    case GST_VIDEO_FORMAT_RGBA: return MACE_FRAME_RGBA;
    case GST_VIDEO_FORMAT_BGRA: return MACE_FRAME_BGRA;
    case GST_VIDEO_FORMAT_RGBx: return MACE_FRAME_RGBX;
    case GST_VIDEO_FORMAT_BGRx: return MACE_FRAME_BGRX;
    case GST_VIDEO_FORMAT_I420: return MACE_FRAME_I420;
    case GST_VIDEO_FORMAT_NV12: return MACE_FRAME_NV12;
    default: return MACE_FRAME_RGB;
  }
}

static gboolean
frame_in_begin (GstMaceFilter *self, GstBuffer *buf, GstVideoInfo *info,
                FrameIn *fi)
{
  memset (fi, 0, sizeof *fi);
  fi->f.format = to_mace_format (GST_VIDEO_INFO_FORMAT (info));
  fi->f.width = GST_VIDEO_INFO_WIDTH (info);
  fi->f.height = GST_VIDEO_INFO_HEIGHT (info);
#ifdef MACE_HAVE_OPENCL
  if (self->cl_context && gst_buffer_n_memory (buf) == 1) {
    GstMemory *mem = gst_buffer_peek_memory (buf, 0);
    if (gst_is_mace_cl_memory (mem, self->cl_context)) {
      gsize moff = 0;
      void *clm = gst_mace_cl_memory_get_buffer (mem, &moff);
      GstVideoMeta *vm = gst_buffer_get_video_meta (buf);
      for (guint p = 0; p < GST_VIDEO_INFO_N_PLANES (info) && p < 3; p++) {
        fi->f.cl_mem[p] = clm;
        fi->f.offset[p]
            = moff
              + (vm ? vm->offset[p] : GST_VIDEO_INFO_PLANE_OFFSET (info, p));
        fi->f.stride[p]
            = vm ? vm->stride[p] : GST_VIDEO_INFO_PLANE_STRIDE (info, p);
      }
      return TRUE;
    }
  }
#else
  (void)self;
#endif
  if (!gst_video_frame_map (&fi->vframe, info, buf, GST_MAP_READ))
    return FALSE;
  fi->mapped = TRUE;
  for (guint p = 0; p < GST_VIDEO_FRAME_N_PLANES (&fi->vframe) && p < 3; p++) {
    fi->f.data[p] = GST_VIDEO_FRAME_PLANE_DATA (&fi->vframe, p);
    fi->f.stride[p] = GST_VIDEO_FRAME_PLANE_STRIDE (&fi->vframe, p);
  }
  return TRUE;
}

static void
frame_in_end (FrameIn *fi)
{
  if (fi->mapped)
    gst_video_frame_unmap (&fi->vframe);
  fi->mapped = FALSE;
}

static void
make_preprocess (GstMaceFilter *self, MacePreprocess *pp)
{
  mace_preprocess_init (pp);
  pp->layout
      = self->layout == MACE_LAYOUT_NCHW ? MACE_TENSOR_NCHW : MACE_TENSOR_NHWC;
  pp->bgr = self->cfg.bgr;
  for (int k = 0; k < 3; k++) {
    pp->mean[k] = self->cfg.mean[k];
    pp->scale[k] = self->cfg.scale[k];
  }
  pp->fit = self->cfg.resize == MACE_RESIZE_LETTERBOX ? MACE_FIT_LETTERBOX
                                                      : MACE_FIT_STRETCH;
}

/* Where the frame landed in the model input, as the decoders take it. */
static MaceContentRect
content_of (const MaceRect *r)
{
  return (MaceContentRect){ r->x, r->y, r->w, r->h };
}

/* Preprocesses (in libmace: on the device with OpenCL) and runs. */
static GstFlowReturn
run_model (GstMaceFilter *self, const FrameIn *fi, const MacePreprocess *pp,
           MaceContentRect *content)
{
  MaceRect r;
  if (mace_engine_set_input_frame (self->engine, 0, &fi->f, pp, &r) != MACE_OK
      || mace_engine_run (self->engine) != MACE_OK)
    goto failed_run;
  MaceFrameStats st;
  mace_engine_get_frame_stats (self->engine, &st);
  self->copies = (guint64)st.copies;
  self->last_zero_copy = st.last_zero_copy != 0;
  if (content)
    *content = content_of (&r);
  return GST_FLOW_OK;

  /* ERRORS */
failed_run:
  GST_ELEMENT_ERROR (self, STREAM, FAILED, ("Inference failed"),
                     ("%s", mace_engine_last_error (self->engine)));
  return GST_FLOW_ERROR;
}

/* Decodes the BlazeFace outputs of the last run into out (max_out
 * entries); returns the count. */
/* Output `index` of the run `fence` is for, or (fence NULL) the last run. */
static const MaceTensor *
run_output (GstMaceFilter *self, const MaceFence *fence, int index)
{
  return fence ? mace_fence_get_output (fence, index)
               : mace_engine_get_output (self->engine, index);
}

static int
decode_detections_into (GstMaceFilter *self, const MaceFence *fence,
                        const MaceContentRect *content, float threshold,
                        float iou, int max_out, MaceDetection *out)
{
  /* Straight from the output tensors: no copy, no allocation. */
  MaceAnchorGroup groups[2];
  for (int g = 0; g < self->n_groups; g++) {
    const MaceTensor *s = run_output (self, fence, self->score_idx[g]);
    const MaceTensor *r = run_output (self, fence, self->reg_idx[g]);
    groups[g].scores = mace_tensor_data_const (s);
    groups[g].regs = mace_tensor_data_const (r);
    groups[g].n = (int)mace_tensor_dim (s, 1);
    groups[g].reg_len = (int)mace_tensor_dim (r, 2);
  }
  return mace_decode_blazeface_groups (
      &self->anchors, groups, self->n_groups, self->in_h, self->in_w, content,
      threshold, iou, self->cfg.n_keypoints, out, max_out);
}

static void
decode_detections (GstMaceFilter *self, const MaceContentRect *content)
{
  self->n_dets = decode_detections_into (self, NULL, content, self->threshold,
                                         self->iou_threshold,
                                         self->max_detections, self->dets);
  self->have_dets = TRUE;
}

static GstStructure *
detection_structure (const MaceDetection *d, const char *label)
{
  GValue kps = G_VALUE_INIT;
  gst_value_array_init (&kps, d->n_kp * 2);
  for (int k = 0; k < d->n_kp; k++)
    for (int c = 0; c < 2; c++) {
      GValue v = G_VALUE_INIT;
      g_value_init (&v, G_TYPE_DOUBLE);
      g_value_set_double (&v, d->kp[k][c]);
      gst_value_array_append_and_take_value (&kps, &v);
    }
  GstStructure *s = gst_structure_new (
      "detection", "x", G_TYPE_DOUBLE, (double)d->x0, "y", G_TYPE_DOUBLE,
      (double)d->y0, "w", G_TYPE_DOUBLE, (double)(d->x1 - d->x0), "h",
      G_TYPE_DOUBLE, (double)(d->y1 - d->y0), "confidence", G_TYPE_DOUBLE,
      (double)d->score, "label_id", G_TYPE_INT, d->label, "label",
      G_TYPE_STRING, label, NULL);
  gst_structure_take_value (s, "landmarks", &kps);
  return s;
}

/* The detections' label: the config's first label, else "face". */
static const char *
detection_label (GstMaceFilter *self)
{
  return self->cfg.labels && self->cfg.labels[0] ? self->cfg.labels[0] : "face";
}

static void
attach_detections (GstMaceFilter *self, GstBuffer *buf, int fw, int fh)
{
  const char *label = detection_label (self);
  for (int i = 0; i < self->n_dets; i++) {
    const MaceDetection *d = &self->dets[i];
    float x0 = CLAMP (d->x0, 0.0f, 1.0f), y0 = CLAMP (d->y0, 0.0f, 1.0f);
    float x1 = CLAMP (d->x1, 0.0f, 1.0f), y1 = CLAMP (d->y1, 0.0f, 1.0f);
    GstVideoRegionOfInterestMeta *m
        = gst_buffer_add_video_region_of_interest_meta (
            buf, label, (guint)(x0 * fw), (guint)(y0 * fh),
            (guint)MAX (1.0f, (x1 - x0) * fw),
            (guint)MAX (1.0f, (y1 - y0) * fh));
    gst_video_region_of_interest_meta_add_param (
        m, detection_structure (d, label));
  }
}

static void
post_result (GstMaceFilter *self, GstBuffer *buf, double ms, guint64 frame)
{
  GValue list = G_VALUE_INIT;
  g_value_init (&list, GST_TYPE_LIST);
  for (int i = 0; i < self->n_dets; i++) {
    GValue v = G_VALUE_INIT;
    g_value_init (&v, GST_TYPE_STRUCTURE);
    g_value_take_boxed (
        &v, detection_structure (&self->dets[i], detection_label (self)));
    gst_value_list_append_and_take_value (&list, &v);
  }
  GstStructure *s = gst_structure_new (
      "mace-result", "timestamp", G_TYPE_UINT64, GST_BUFFER_PTS (buf),
      "inference-ms", G_TYPE_DOUBLE, ms, "frame", G_TYPE_UINT64, frame,
      "num-detections", G_TYPE_INT, self->n_dets, NULL);
  gst_structure_take_value (s, "detections", &list);
  gst_element_post_message (GST_ELEMENT (self),
                            gst_message_new_element (GST_OBJECT (self), s));
}

/* The raw outputs as a GstStructure for the MaceTensorMeta. */
static GstStructure *
tensor_structure (GstMaceFilter *self, const MaceFence *fence, double ms)
{
  GValue arr = G_VALUE_INIT;
  gst_value_array_init (&arr, mace_engine_num_outputs (self->engine));
  for (int i = 0; i < mace_engine_num_outputs (self->engine); i++) {
    const MaceTensor *t = run_output (self, fence, i);
    GValue shape = G_VALUE_INIT;
    gst_value_array_init (&shape, mace_tensor_ndim (t));
    for (int d = 0; d < mace_tensor_ndim (t); d++) {
      GValue v = G_VALUE_INIT;
      g_value_init (&v, G_TYPE_INT64);
      g_value_set_int64 (&v, mace_tensor_dim (t, d));
      gst_value_array_append_and_take_value (&shape, &v);
    }
    GBytes *bytes
        = g_bytes_new (mace_tensor_data_const (t), mace_tensor_nbytes (t));
    GstStructure *o = gst_structure_new (
        "tensor", "name", G_TYPE_STRING,
        mace_engine_output_name (self->engine, i), "dtype", G_TYPE_STRING,
        mace_dtype_name (mace_tensor_dtype (t)), "data", G_TYPE_BYTES, bytes,
        NULL);
    g_bytes_unref (bytes);
    gst_structure_take_value (o, "shape", &shape);
    GValue ov = G_VALUE_INIT;
    g_value_init (&ov, GST_TYPE_STRUCTURE);
    g_value_take_boxed (&ov, o);
    gst_value_array_append_and_take_value (&arr, &ov);
  }
  GstStructure *s
      = gst_structure_new ("MaceTensorMeta", "num-outputs", G_TYPE_INT,
                           mace_engine_num_outputs (self->engine),
                           "inference-ms", G_TYPE_DOUBLE, ms, NULL);
  gst_structure_take_value (s, "outputs", &arr);
  return s;
}

static void
attach_tensors (GstMaceFilter *self, GstBuffer *buf)
{
  if (!self->last_tensors)
    return;
  GstCustomMeta *m = gst_buffer_add_custom_meta (buf, "MaceTensorMeta");
  if (!m)
    return;
  GstStructure *dst = gst_custom_meta_get_structure (m);
  for (int i = 0; i < gst_structure_n_fields (self->last_tensors); i++) {
    const gchar *f = gst_structure_nth_field_name (self->last_tensors, i);
    gst_structure_set_value (dst, f,
                             gst_structure_get_value (self->last_tensors, f));
  }
}

static GstFlowReturn
gst_mace_filter_transform_ip (GstBaseTransform *trans, GstBuffer *buf)
{
  GstMaceFilter *self = GST_MACE_FILTER (trans);
  GstVideoFilter *vf = GST_VIDEO_FILTER (trans);
  GstFlowReturn ret = GST_FLOW_OK;
  if (!vf->negotiated)
    goto not_negotiated;
  g_mutex_lock (&self->lock);
  gboolean have = self->cfg.decoder == MACE_DECODER_TENSOR
                      ? self->last_tensors != NULL
                      : self->have_dets;
  gboolean infer
      = !have || self->frames % (guint64)self->inference_interval == 0;
  self->frames++;
  double ms = 0;
  if (infer) {
    FrameIn fi;
    MaceContentRect content;
    MacePreprocess pp;
    gint64 t0 = g_get_monotonic_time ();
    if (!frame_in_begin (self, buf, &vf->in_info, &fi)) {
      g_mutex_unlock (&self->lock);
      goto map_failed;
    }
    make_preprocess (self, &pp);
    ret = run_model (self, &fi, &pp, &content);
    frame_in_end (&fi);
    if (ret == GST_FLOW_OK) {
      if (self->cfg.decoder == MACE_DECODER_BLAZEFACE)
        decode_detections (self, &content);
      ms = (g_get_monotonic_time () - t0) / 1000.0;
      if (self->cfg.decoder == MACE_DECODER_TENSOR) {
        if (self->last_tensors)
          gst_structure_free (self->last_tensors);
        self->last_tensors = tensor_structure (self, NULL, ms);
      }
      self->inferences++;
      self->total_inference_ms += ms;
    }
  }
  if (ret == GST_FLOW_OK && self->cfg.decoder == MACE_DECODER_BLAZEFACE) {
    attach_detections (self, buf, GST_VIDEO_INFO_WIDTH (&vf->in_info),
                       GST_VIDEO_INFO_HEIGHT (&vf->in_info));
    if (infer && self->message)
      post_result (self, buf, ms, self->frames);
  } else if (ret == GST_FLOW_OK && self->cfg.decoder == MACE_DECODER_TENSOR) {
    attach_tensors (self, buf);
  }
  g_mutex_unlock (&self->lock);
  return ret;

  /* ERRORS */
not_negotiated:
  GST_ELEMENT_ERROR (self, CORE, NEGOTIATION, (NULL), ("no caps set"));
  return GST_FLOW_NOT_NEGOTIATED;
map_failed:
  GST_ELEMENT_ERROR (self, STREAM, FORMAT, ("Cannot map the input frame"),
                     (NULL));
  return GST_FLOW_ERROR;
}

/* ---- Pipelining --------------------------------------------------------
 *
 * On a discrete GPU the host's share of a frame (sampling a 1080p frame
 * into the model's input, enqueueing the launches) and the device's run
 * take turns when each frame is finished before the next is taken.  When
 * pipelined, the upstream thread preprocesses frame N+1 while the device
 * runs frame N and only then waits for N; a thread of the element's own
 * waits for each run's fence, decodes its outputs, attaches the results
 * and pushes the frame, in stream order, the moment they are in: no frame
 * waits for the next one to arrive, so no latency is added.
 *
 * Each frame is a PipeEntry in pipe_queue.  An inference entry is decoded
 * once, by whichever thread gets to it first: the push thread (which
 * waits on the fence at once), or the upstream thread, which must have
 * the outputs read before it starts the next run over them.  Frames
 * between inferences (inference-interval) carry the results the push
 * thread attached last.  Serialized events and queries wait until every
 * held frame is pushed, so downstream sees them in order. */

typedef enum { PIPE_PENDING, PIPE_DECODING, PIPE_DONE } PipeState;

typedef struct _PipeEntry {
  GstBuffer *buf;
  gboolean infer;
  guint64 frame; /* stream count, for the message */
  PipeState state;
  MaceFence *fence;
  FrameIn fi; /* mapped until the device is done with it */
  MaceContentRect content;
  gint64 t0;
  gint fw, fh; /* frame size, for the regions */
  gfloat threshold, iou;
  gint max_dets;
  /* results */
  gboolean failed;
  MaceDetection *dets;
  gint n_dets;
  GstStructure *tensors;
  gdouble ms;
} PipeEntry;

static void
pipe_entry_free (PipeEntry *e)
{
  frame_in_end (&e->fi);
  mace_fence_free (e->fence);
  if (e->buf)
    gst_buffer_unref (e->buf);
  if (e->tensors)
    gst_structure_free (e->tensors);
  g_free (e->dets);
  g_free (e);
}

/* Waits for the entry's run and decodes its outputs into it.  Called by
 * the thread that moved it from PENDING to DECODING, without locks: the
 * engine's outputs are not touched by anyone until the entry is DONE. */
static void
pipe_decode (GstMaceFilter *self, PipeEntry *e)
{
  if (mace_fence_wait (e->fence) != MACE_OK) {
    e->failed = TRUE;
  } else {
    e->ms = (g_get_monotonic_time () - e->t0) / 1000.0;
    if (self->cfg.decoder == MACE_DECODER_BLAZEFACE) {
      e->dets = g_new (MaceDetection, MAX (1, e->max_dets));
      e->n_dets
          = decode_detections_into (self, e->fence, &e->content, e->threshold,
                                    e->iou, e->max_dets, e->dets);
    } else if (self->cfg.decoder == MACE_DECODER_TENSOR) {
      e->tensors = tensor_structure (self, e->fence, e->ms);
    }
  }
  frame_in_end (&e->fi);
}

/* Decodes e (PENDING); pipe_lock held, released meanwhile. */
static void
pipe_decode_pending (GstMaceFilter *self, PipeEntry *e)
{
  e->state = PIPE_DECODING;
  g_mutex_unlock (&self->pipe_lock);
  pipe_decode (self, e);
  g_mutex_lock (&self->pipe_lock);
  e->state = PIPE_DONE;
  if (self->pipe_open == e)
    g_atomic_pointer_set (&self->pipe_open, NULL);
  if (self->pipe_prev == e)
    g_atomic_pointer_set (&self->pipe_prev, NULL);
  g_cond_broadcast (&self->pipe_cond);
}

/* The push thread: makes sure its head entry e (an inference) is decoded;
 * pipe_lock held.  Only this thread frees entries, so e stays valid while
 * the upstream thread decodes it. */
static void
pipe_settle (GstMaceFilter *self, PipeEntry *e)
{
  while (e->state != PIPE_DONE) {
    if (e->state == PIPE_PENDING)
      pipe_decode_pending (self, e);
    else
      g_cond_wait (&self->pipe_cond, &self->pipe_lock);
  }
}

static inline void
cpu_relax (void)
{
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause ();
#endif
}

/* How long the upstream thread spins before it sleeps, waiting for the
 * push thread to finish decoding: the outputs are microseconds from
 * decoded once the device is done, and a sleeping thread's wake-up costs
 * tens of microseconds on some hosts, a tenth of a small model's run. */
#define PIPE_SPIN_US 3000

/* The upstream thread: waits until the entry in *slot (pipe_open or
 * pipe_prev) is decoded, decoding it itself if nobody has started;
 * pipe_lock held.  It follows the slot, not the entry, which the push
 * thread frees once it is decoded and pushed. */
static void
pipe_settle_slot (GstMaceFilter *self, PipeEntry **slot)
{
  while (*slot) {
    if ((*slot)->state == PIPE_PENDING) {
      pipe_decode_pending (self, *slot);
      continue;
    }
    g_mutex_unlock (&self->pipe_lock);
    gint64 until = g_get_monotonic_time () + PIPE_SPIN_US;
    for (guint i = 1; g_atomic_pointer_get (slot); i++) {
      cpu_relax ();
      if (i % 256 == 0 && g_get_monotonic_time () > until)
        break;
    }
    g_mutex_lock (&self->pipe_lock);
    if (*slot && (*slot)->state == PIPE_DECODING)
      g_cond_wait (&self->pipe_cond, &self->pipe_lock);
  }
}

/* Attaches (and posts) the results a frame gets: its own, or the last
 * ones for frames between inferences. */
static void
pipe_attach (GstMaceFilter *self, PipeEntry *e, gboolean push)
{
  g_mutex_lock (&self->lock);
  if (e->infer && !e->failed) {
    self->inferences++;
    self->total_inference_ms += e->ms;
    if (self->cfg.decoder == MACE_DECODER_BLAZEFACE) {
      memcpy (self->dets, e->dets, sizeof (MaceDetection) * (size_t)e->n_dets);
      self->n_dets = e->n_dets;
      self->have_dets = TRUE;
    } else if (self->cfg.decoder == MACE_DECODER_TENSOR) {
      if (self->last_tensors)
        gst_structure_free (self->last_tensors);
      self->last_tensors = e->tensors;
      e->tensors = NULL;
    }
  }
  if (push && self->cfg.decoder == MACE_DECODER_BLAZEFACE && self->have_dets) {
    attach_detections (self, e->buf, e->fw, e->fh);
    if (e->infer && self->message)
      post_result (self, e->buf, e->ms, e->frame);
  } else if (push && self->cfg.decoder == MACE_DECODER_TENSOR) {
    attach_tensors (self, e->buf);
  }
  g_mutex_unlock (&self->lock);
}

static gpointer
pipe_thread_fn (gpointer data)
{
  GstMaceFilter *self = data;
  GstPad *srcpad = GST_BASE_TRANSFORM_SRC_PAD (self);
  g_mutex_lock (&self->pipe_lock);
  for (;;) {
    while (!self->pipe_stop && g_queue_is_empty (&self->pipe_queue))
      g_cond_wait (&self->pipe_cond, &self->pipe_lock);
    PipeEntry *e = g_queue_peek_head (&self->pipe_queue);
    if (!e)
      break; /* stopped and empty */
    if (e->infer)
      pipe_settle (self, e);
    gboolean push = !self->pipe_flushing && self->pipe_flow == GST_FLOW_OK;
    g_mutex_unlock (&self->pipe_lock);
    GstFlowReturn ret = GST_FLOW_OK;
    if (e->infer && e->failed && push) {
      GST_ELEMENT_ERROR (self, STREAM, FAILED, ("Inference failed"),
                         ("the device reported a failed run"));
      ret = GST_FLOW_ERROR;
      push = FALSE;
    }
    pipe_attach (self, e, push);
    if (push) {
      GstBuffer *buf = e->buf;
      e->buf = NULL;
      ret = gst_pad_push (srcpad, buf);
    }
    g_mutex_lock (&self->pipe_lock);
    g_queue_pop_head (&self->pipe_queue);
    if (ret != GST_FLOW_OK && self->pipe_flow == GST_FLOW_OK)
      self->pipe_flow = ret;
    g_cond_broadcast (&self->pipe_cond);
    g_mutex_unlock (&self->pipe_lock);
    pipe_entry_free (e);
    g_mutex_lock (&self->pipe_lock);
  }
  g_mutex_unlock (&self->pipe_lock);
  return NULL;
}

/* Waits until every held frame is pushed (or dropped). */
static void
pipe_drain (GstMaceFilter *self)
{
  g_mutex_lock (&self->pipe_lock);
  while (!g_queue_is_empty (&self->pipe_queue))
    g_cond_wait (&self->pipe_cond, &self->pipe_lock);
  g_mutex_unlock (&self->pipe_lock);
}

static void
pipe_start (GstMaceFilter *self)
{
  self->pipe_stop = self->pipe_flushing = FALSE;
  self->pipe_flow = GST_FLOW_OK;
  self->pipe_submitted = FALSE;
  g_atomic_pointer_set (&self->pipe_open, NULL);
  g_atomic_pointer_set (&self->pipe_prev, NULL);
  self->pipe_thread = g_thread_new ("macefilter-push", pipe_thread_fn, self);
}

/* Drops what is held (its runs finished) and joins the thread. */
static void
pipe_stop (GstMaceFilter *self)
{
  if (!self->pipe_thread)
    return;
  g_mutex_lock (&self->pipe_lock);
  self->pipe_stop = self->pipe_flushing = TRUE;
  g_cond_broadcast (&self->pipe_cond);
  g_mutex_unlock (&self->pipe_lock);
  g_thread_join (self->pipe_thread);
  self->pipe_thread = NULL;
}

/* The upstream thread's part of a frame (generate_output). */
static GstFlowReturn
pipe_chain (GstMaceFilter *self, GstBuffer *buf)
{
  GstVideoFilter *vf = GST_VIDEO_FILTER (self);
  GstFlowReturn ret = GST_FLOW_OK;
  if (!vf->negotiated) {
    gst_buffer_unref (buf);
    GST_ELEMENT_ERROR (self, CORE, NEGOTIATION, (NULL), ("no caps set"));
    return GST_FLOW_NOT_NEGOTIATED;
  }
  g_mutex_lock (&self->pipe_lock);
  while (!self->pipe_flushing && self->pipe_flow == GST_FLOW_OK
         && g_queue_get_length (&self->pipe_queue) >= PIPE_MAX_QUEUED)
    g_cond_wait (&self->pipe_cond, &self->pipe_lock);
  ret = self->pipe_flushing ? GST_FLOW_FLUSHING : self->pipe_flow;
  g_mutex_unlock (&self->pipe_lock);
  if (ret != GST_FLOW_OK) {
    gst_buffer_unref (buf);
    return ret;
  }

  PipeEntry *e = g_new0 (PipeEntry, 1);
  e->buf = gst_buffer_make_writable (buf);
  e->state = PIPE_DONE;
  e->fw = GST_VIDEO_INFO_WIDTH (&vf->in_info);
  e->fh = GST_VIDEO_INFO_HEIGHT (&vf->in_info);
  g_mutex_lock (&self->lock);
  e->infer = !self->pipe_submitted
             || self->frames % (guint64)self->inference_interval == 0;
  e->frame = ++self->frames;
  e->threshold = self->threshold;
  e->iou = self->iou_threshold;
  e->max_dets = self->max_detections;
  g_mutex_unlock (&self->lock);

  if (e->infer) {
    MacePreprocess pp;
    MaceRect r;
    e->t0 = g_get_monotonic_time ();
    if (!frame_in_begin (self, e->buf, &vf->in_info, &e->fi)) {
      pipe_entry_free (e);
      GST_ELEMENT_ERROR (self, STREAM, FORMAT, ("Cannot map the input frame"),
                         (NULL));
      return GST_FLOW_ERROR;
    }
    make_preprocess (self, &pp);
    /* While the device still runs the previous frame. */
    if (mace_engine_set_input_frame (self->engine, 0, &e->fi.f, &pp, &r)
        != MACE_OK)
      goto run_failed;
    e->content = content_of (&r);
    /* This run writes the outputs of the run before the last one: those
     * are read first (long since, as a rule: by the push thread). */
    g_mutex_lock (&self->pipe_lock);
    pipe_settle_slot (self, &self->pipe_prev);
    g_atomic_pointer_set (&self->pipe_prev, self->pipe_open);
    g_atomic_pointer_set (&self->pipe_open, NULL);
    g_mutex_unlock (&self->pipe_lock);
    /* Waits for the last run, as one frame at a time would. */
    if (mace_engine_run_async (self->engine, &e->fence) != MACE_OK)
      goto run_failed;
    MaceFrameStats st;
    mace_engine_get_frame_stats (self->engine, &st);
    g_mutex_lock (&self->lock);
    self->copies = (guint64)st.copies;
    self->last_zero_copy = st.last_zero_copy != 0;
    g_mutex_unlock (&self->lock);
    e->state = PIPE_PENDING;
  }
  g_mutex_lock (&self->pipe_lock);
  if (e->infer) {
    g_atomic_pointer_set (&self->pipe_open, e);
    self->pipe_submitted = TRUE;
  }
  g_queue_push_tail (&self->pipe_queue, e);
  g_cond_broadcast (&self->pipe_cond);
  g_mutex_unlock (&self->pipe_lock);
  return GST_FLOW_OK;

  /* ERRORS */
run_failed:
  GST_ELEMENT_ERROR (self, STREAM, FAILED, ("Inference failed"),
                     ("%s", mace_engine_last_error (self->engine)));
  pipe_entry_free (e);
  return GST_FLOW_ERROR;
}

static GstFlowReturn
gst_mace_filter_generate_output (GstBaseTransform *trans, GstBuffer **outbuf)
{
  GstMaceFilter *self = GST_MACE_FILTER (trans);
  if (!self->pipelined)
    return GST_BASE_TRANSFORM_CLASS (parent_class)
        ->generate_output (trans, outbuf);
  *outbuf = NULL;
  GstBuffer *buf = trans->queued_buf;
  trans->queued_buf = NULL;
  if (!buf)
    return GST_FLOW_OK;
  return pipe_chain (self, buf);
}

static gboolean
gst_mace_filter_sink_event (GstBaseTransform *trans, GstEvent *event)
{
  GstMaceFilter *self = GST_MACE_FILTER (trans);
  if (self->pipelined) {
    switch (GST_EVENT_TYPE (event)) {
      case GST_EVENT_FLUSH_START:
        g_mutex_lock (&self->pipe_lock);
        self->pipe_flushing = TRUE;
        g_cond_broadcast (&self->pipe_cond);
        g_mutex_unlock (&self->pipe_lock);
        break;
      case GST_EVENT_FLUSH_STOP:
        pipe_drain (self);
        g_mutex_lock (&self->pipe_lock);
        self->pipe_flushing = FALSE;
        self->pipe_flow = GST_FLOW_OK;
        g_mutex_unlock (&self->pipe_lock);
        break;
      default:
        if (GST_EVENT_IS_SERIALIZED (event))
          pipe_drain (self);
        break;
    }
  }
  return GST_BASE_TRANSFORM_CLASS (parent_class)->sink_event (trans, event);
}

static gboolean
gst_mace_filter_query (GstBaseTransform *trans, GstPadDirection direction,
                       GstQuery *query)
{
  GstMaceFilter *self = GST_MACE_FILTER (trans);
  if (self->pipelined && direction == GST_PAD_SINK
      && GST_QUERY_IS_SERIALIZED (query))
    pipe_drain (self);
  return GST_BASE_TRANSFORM_CLASS (parent_class)
      ->query (trans, direction, query);
}

/* First pixel of each tile along one axis: tiles of `tile` pixels,
 * consecutive ones overlapping by 2 * ov, the last one flush with the
 * end.  Returns the count. */
static int
tile_starts (int total, int tile, int ov, int *starts)
{
  if (total <= tile) {
    starts[0] = 0;
    return 1;
  }
  int step = MAX (tile - 2 * ov, 1), n = 0;
  for (int x = 0;; x += step) {
    if (x + tile >= total) {
      starts[n++] = total - tile;
      return n;
    }
    starts[n++] = x;
  }
}

/* Fixed-input image model on a frame of any size: each tile's output
 * without its overlap margins (except at the frame's edges) is written
 * to the output frame; with an overlap at least the model's receptive
 * field the result equals the whole frame through a dynamic model. */
static GstFlowReturn
run_tiles (GstMaceFilter *self, const FrameIn *fi, GstVideoFrame *out)
{
  const int W = fi->f.width, H = fi->f.height, s = self->scale;
  const int tw = self->in_w, th = self->in_h;
  const int ovx = MIN (self->tile_overlap, (tw - 1) / 2);
  const int ovy = MIN (self->tile_overlap, (th - 1) / 2);
  int *xs = g_new (int, W + 2), *ys = g_new (int, H + 2);
  int nx = tile_starts (W, tw, ovx, xs), ny = tile_starts (H, th, ovy, ys);
  GstFlowReturn ret = GST_FLOW_OK;
  MacePreprocess pp;
  make_preprocess (self, &pp);
  pp.fit = MACE_FIT_NONE; /* 1:1; a frame smaller than a tile is padded */
  for (int j = 0; j < ny && ret == GST_FLOW_OK; j++)
    for (int i = 0; i < nx && ret == GST_FLOW_OK; i++) {
      int x = xs[i], y = ys[j], cw = MIN (tw, W), ch = MIN (th, H);
      pp.crop_x = x;
      pp.crop_y = y;
      pp.crop_w = cw;
      pp.crop_h = ch;
      ret = run_model (self, fi, &pp, NULL);
      if (ret != GST_FLOW_OK)
        break;
      int l = x == 0 ? 0 : ovx, r = x + cw >= W ? 0 : ovx;
      int t = y == 0 ? 0 : ovy, b = y + ch >= H ? 0 : ovy;
      const MaceTensor *o = mace_engine_get_output (self->engine, 0);
      int oh
          = (int)mace_tensor_dim (o, self->layout == MACE_LAYOUT_NCHW ? 2 : 1);
      int ow
          = (int)mace_tensor_dim (o, self->layout == MACE_LAYOUT_NCHW ? 3 : 2);
      if (!mace_tensor_to_frame_region (
              mace_tensor_data_const (o), self->layout, oh, ow, l * s, t * s,
              (cw - l - r) * s, (ch - t - b) * s, (x + l) * s, (y + t) * s,
              self->cfg.out_lo, self->cfg.out_hi, self->cfg.bgr, out,
              self->to_frame_pool)) {
        GST_ELEMENT_ERROR (
            self, STREAM, FAILED,
            ("Tile output %dx%d does not fit the %dx%d frame", ow, oh,
             GST_VIDEO_FRAME_WIDTH (out), GST_VIDEO_FRAME_HEIGHT (out)),
            ("tile at %d,%d of a %dx%d frame, scale %d", x, y, W, H, s));
        ret = GST_FLOW_ERROR;
      }
    }
  g_free (xs);
  g_free (ys);
  return ret;
}

static GstFlowReturn
gst_mace_filter_transform (GstBaseTransform *trans, GstBuffer *inbuf,
                           GstBuffer *outbuf)
{
  GstMaceFilter *self = GST_MACE_FILTER (trans);
  GstVideoFilter *vf = GST_VIDEO_FILTER (trans);
  GstFlowReturn ret;
  GstVideoFrame out;
  FrameIn fi;
  if (!vf->negotiated)
    goto not_negotiated;
  if (!gst_video_frame_map (&out, &vf->out_info, outbuf, GST_MAP_WRITE))
    goto map_failed;
  g_mutex_lock (&self->lock);
  if (!frame_in_begin (self, inbuf, &vf->in_info, &fi)) {
    g_mutex_unlock (&self->lock);
    gst_video_frame_unmap (&out);
    goto map_failed;
  }
  self->frames++;
  gint64 t0 = g_get_monotonic_time ();
  if (self->tiled) {
    ret = run_tiles (self, &fi, &out);
  } else {
    MacePreprocess pp;
    make_preprocess (self, &pp);
    ret = run_model (self, &fi, &pp, NULL);
    if (ret == GST_FLOW_OK) {
      const MaceTensor *t = mace_engine_get_output (self->engine, 0);
      int oh
          = (int)mace_tensor_dim (t, self->layout == MACE_LAYOUT_NCHW ? 2 : 1);
      int ow
          = (int)mace_tensor_dim (t, self->layout == MACE_LAYOUT_NCHW ? 3 : 2);
      if (!mace_tensor_to_frame (mace_tensor_data_const (t), self->layout, oh,
                                 ow, self->cfg.out_lo, self->cfg.out_hi,
                                 self->cfg.bgr, &out, self->to_frame_pool)) {
        GST_ELEMENT_ERROR (self, STREAM, FAILED,
                           ("Model output %dx%d does not fit the %dx%d frame",
                            ow, oh, GST_VIDEO_FRAME_WIDTH (&out),
                            GST_VIDEO_FRAME_HEIGHT (&out)),
                           (NULL));
        ret = GST_FLOW_ERROR;
      }
    }
  }
  frame_in_end (&fi);
  if (ret == GST_FLOW_OK) {
    double ms = (g_get_monotonic_time () - t0) / 1000.0;
    self->inferences++;
    self->total_inference_ms += ms;
    if (self->message) {
      self->n_dets = 0;
      post_result (self, inbuf, ms, self->frames);
    }
  }
  g_mutex_unlock (&self->lock);
  gst_video_frame_unmap (&out);
  return ret;

  /* ERRORS */
not_negotiated:
  GST_ELEMENT_ERROR (self, CORE, NEGOTIATION, (NULL), ("no caps set"));
  return GST_FLOW_NOT_NEGOTIATED;
map_failed:
  GST_ELEMENT_ERROR (self, STREAM, FORMAT, ("Cannot map a frame"), (NULL));
  return GST_FLOW_ERROR;
}

/* ---- allocation ------------------------------------------------------- */

/* On OpenCL, upstream gets a pool of CL-backed buffers: what it writes is
 * what the preprocess kernel reads, with no copy in between. */
static gboolean
gst_mace_filter_propose_allocation (GstBaseTransform *trans,
                                    GstQuery *decide_query, GstQuery *query)
{
  GstMaceFilter *self = GST_MACE_FILTER (trans);
  if (!self->cl_allocator)
    return GST_BASE_TRANSFORM_CLASS (parent_class)
        ->propose_allocation (trans, decide_query, query);
  GstCaps *caps = NULL;
  gboolean need_pool = FALSE;
  gst_query_parse_allocation (query, &caps, &need_pool);
  GstVideoInfo info;
  if (!caps || !gst_video_info_from_caps (&info, caps))
    return FALSE;
  GstAllocationParams params;
  gst_allocation_params_init (&params);
  if (need_pool) {
    GstBufferPool *pool = gst_video_buffer_pool_new ();
    GstStructure *config = gst_buffer_pool_get_config (pool);
    gst_buffer_pool_config_set_params (config, caps, (guint)info.size, 2, 0);
    gst_buffer_pool_config_set_allocator (config, self->cl_allocator, &params);
    gst_buffer_pool_config_add_option (config,
                                       GST_BUFFER_POOL_OPTION_VIDEO_META);
    if (!gst_buffer_pool_set_config (pool, config)) {
      gst_object_unref (pool);
      return FALSE;
    }
    gst_query_add_allocation_pool (query, pool, (guint)info.size, 2, 0);
    gst_object_unref (pool);
  }
  gst_query_add_allocation_param (query, self->cl_allocator, &params);
  gst_query_add_allocation_meta (query, GST_VIDEO_META_API_TYPE, NULL);
  GST_DEBUG_OBJECT (
      self, "offered a pool of OpenCL memory for %" GST_PTR_FORMAT, caps);
  return TRUE;
}
