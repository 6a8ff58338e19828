/* SPDX-License-Identifier: Apache-2.0 */
#ifndef GST_MACE_OVERLAY_H
#define GST_MACE_OVERLAY_H

#include <gst/video/gstvideofilter.h>
#include <gst/video/video.h>

G_BEGIN_DECLS

#define GST_TYPE_MACE_OVERLAY (gst_mace_overlay_get_type ())
G_DECLARE_FINAL_TYPE (GstMaceOverlay, gst_mace_overlay, GST, MACE_OVERLAY,
                      GstVideoFilter)

GST_ELEMENT_REGISTER_DECLARE (maceoverlay);

G_END_DECLS

#endif
