/* SPDX-License-Identifier: Apache-2.0
 * Tensors on disk: ONNX TensorProto .pb files (the format of ONNX's own
 * test data), read whole and written atomically. */
#include <glib.h>

#include "internal.h"

MaceStatus
mace_tensor_load_pb (const char *path, MaceTensor **out, char **name,
                     MaceError *error)
{
  if (!path || !out) {
    mace_set_error (error, MACE_ERROR_INVALID_ARG,
                    "mace_tensor_load_pb: path and out are required");
    return MACE_ERROR_INVALID_ARG;
  }
  *out = NULL;
  if (name)
    *name = NULL;
  uint8_t *data = NULL;
  size_t len = 0;
  MaceStatus st = mace_read_file (path, &data, &len, error);
  if (st != MACE_OK)
    return st;
  st = mace_onnx_parse_tensor (data, len, path, out, name, error);
  g_free (data);
  return st;
}

MaceStatus
mace_tensor_save_pb (const MaceTensor *tensor, const char *name,
                     const char *path, MaceError *error)
{
  if (!tensor || !path) {
    mace_set_error (error, MACE_ERROR_INVALID_ARG,
                    "mace_tensor_save_pb: tensor and path are required");
    return MACE_ERROR_INVALID_ARG;
  }
  uint8_t *buf = NULL;
  size_t len = 0;
  MaceError local = { 0 };
  MaceStatus st = mace_onnx_serialize_tensor (tensor, name, &buf, &len, &local);
  if (st != MACE_OK) {
    mace_set_error (error, st, "%s: %s", path, local.message);
    return st;
  }
  st = mace_write_file_atomic (path, buf, len, error);
  g_free (buf);
  return st;
}
