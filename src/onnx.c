/* SPDX-License-Identifier: Apache-2.0
 * Placeholder: the ONNX importer is being written. */
#include "internal.h"
#include "onnx.pb-c.h"
MaceGraph *mace_onnx_load (const void *data, size_t size, const char *path, MaceError *err) { (void) data; (void) size; mace_set_error (err, MACE_ERROR_UNSUPPORTED, "%s: loader not built yet", path); return NULL; }
MaceStatus mace_onnx_parse_tensor (const void *data, size_t size, const char *path, MaceTensor **out, char **name, MaceError *err) { (void) data; (void) size; (void) out; (void) name; mace_set_error (err, MACE_ERROR_UNSUPPORTED, "%s: not yet", path); return MACE_ERROR_UNSUPPORTED; }
MaceStatus mace_onnx_serialize_tensor (const MaceTensor *t, const char *name, uint8_t **out, size_t *len, MaceError *err) { (void) t; (void) name; (void) out; (void) len; mace_set_error (err, MACE_ERROR_UNSUPPORTED, "not yet"); return MACE_ERROR_UNSUPPORTED; }
