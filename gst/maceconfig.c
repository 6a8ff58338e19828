/* SPDX-License-Identifier: Apache-2.0 */
#include "maceconfig.h"

#include <string.h>

#include <json-glib/json-glib.h>

#define CONFIG_ERROR g_quark_from_static_string ("mace-config-error")

void
mace_model_config_init (MaceModelConfig *c)
{
  memset (c, 0, sizeof *c);
  c->layout = MACE_LAYOUT_AUTO;
  for (int i = 0; i < 3; i++) {
    c->mean[i] = 0.0f;
    c->scale[i] = 1.0f;
  }
  c->decoder = MACE_DECODER_AUTO;
  c->strides[0] = 8;
  c->strides[1] = 16;
  c->strides[2] = 16;
  c->strides[3] = 16;
  c->n_strides = 4;
  c->anchors_per_stride = 2;
  c->score_threshold = 0.5f;
  c->iou_threshold = 0.3f;
  c->n_keypoints = 6;
  c->out_lo = 0.0f;
  c->out_hi = 255.0f;
}

void
mace_model_config_clear (MaceModelConfig *c)
{
  g_free (c->path);
  g_strfreev (c->labels);
  c->path = NULL;
  c->labels = NULL;
}

const char *
mace_decoder_type_name (MaceDecoderType t)
{
  switch (t) {
    case MACE_DECODER_BLAZEFACE: return "blazeface";
    case MACE_DECODER_IMAGE: return "image";
    case MACE_DECODER_TENSOR: return "tensor";
    default: return "auto";
  }
}

/* Applies one key/value (already as strings or number lists). */
static gboolean
set_enum (const char *path, const char *key, const char *v, GError **error,
          MaceModelConfig *c)
{
  if (strcmp (key, "layout") == 0) {
    if (g_ascii_strcasecmp (v, "nhwc") == 0)
      c->layout = MACE_LAYOUT_NHWC;
    else if (g_ascii_strcasecmp (v, "nchw") == 0)
      c->layout = MACE_LAYOUT_NCHW;
    else if (g_ascii_strcasecmp (v, "auto") == 0)
      c->layout = MACE_LAYOUT_AUTO;
    else
      goto bad;
  } else if (strcmp (key, "color") == 0) {
    if (g_ascii_strcasecmp (v, "rgb") == 0)
      c->bgr = FALSE;
    else if (g_ascii_strcasecmp (v, "bgr") == 0)
      c->bgr = TRUE;
    else
      goto bad;
  } else if (strcmp (key, "resize") == 0) {
    if (g_ascii_strcasecmp (v, "stretch") == 0)
      c->resize = MACE_RESIZE_STRETCH;
    else if (g_ascii_strcasecmp (v, "letterbox") == 0)
      c->resize = MACE_RESIZE_LETTERBOX;
    else
      goto bad;
  } else if (strcmp (key, "type") == 0 || strcmp (key, "decoder") == 0) {
    if (g_ascii_strcasecmp (v, "blazeface") == 0)
      c->decoder = MACE_DECODER_BLAZEFACE;
    else if (g_ascii_strcasecmp (v, "image") == 0)
      c->decoder = MACE_DECODER_IMAGE;
    else if (g_ascii_strcasecmp (v, "tensor") == 0)
      c->decoder = MACE_DECODER_TENSOR;
    else
      goto bad;
  }
  return TRUE;
bad:
  g_set_error (error, CONFIG_ERROR, 1, "%s: bad value '%s' for '%s'", path, v,
               key);
  return FALSE;
}

static gboolean
set_numbers (const char *path, const char *key, const double *v, int n,
             GError **error, MaceModelConfig *c)
{
  if (strcmp (key, "range") == 0 || strcmp (key, "output-range") == 0) {
    if (n != 2 || v[1] <= v[0])
      goto bad;
    if (key[0] == 'r') {
      for (int i = 0; i < 3; i++) {
        c->scale[i] = (float)((v[1] - v[0]) / 255.0);
        c->mean[i] = (float)(-v[0] / c->scale[i]);
      }
    } else {
      c->out_lo = (float)v[0];
      c->out_hi = (float)v[1];
    }
  } else if (strcmp (key, "mean") == 0 || strcmp (key, "scale") == 0) {
    if (n != 1 && n != 3)
      goto bad;
    float *dst = key[0] == 'm' ? c->mean : c->scale;
    for (int i = 0; i < 3; i++)
      dst[i] = (float)v[n == 1 ? 0 : i];
  } else if (strcmp (key, "strides") == 0) {
    if (n < 1 || n > MACE_MAX_STRIDES)
      goto bad;
    for (int i = 0; i < n; i++)
      if (v[i] < 1)
        goto bad;
    c->n_strides = n;
    for (int i = 0; i < n; i++)
      c->strides[i] = (int)v[i];
  } else if (strcmp (key, "anchors-per-stride") == 0) {
    if (n != 1 || v[0] < 1)
      goto bad;
    c->anchors_per_stride = (int)v[0];
  } else if (strcmp (key, "score-threshold") == 0) {
    if (n != 1 || v[0] < 0 || v[0] > 1)
      goto bad;
    c->score_threshold = (float)v[0];
  } else if (strcmp (key, "iou-threshold") == 0) {
    if (n != 1 || v[0] < 0 || v[0] > 1)
      goto bad;
    c->iou_threshold = (float)v[0];
  } else if (strcmp (key, "keypoints") == 0) {
    if (n != 1 || v[0] < 0 || v[0] > 32)
      goto bad;
    c->n_keypoints = (int)v[0];
  } else if (strcmp (key, "tile") == 0) {
    if (n != 1 || v[0] < 0)
      goto bad;
    c->tile = (int)v[0];
  } else {
    g_set_error (error, CONFIG_ERROR, 1, "%s: unknown key '%s'", path, key);
    return FALSE;
  }
  return TRUE;
bad:
  g_set_error (error, CONFIG_ERROR, 1, "%s: bad value for '%s'", path, key);
  return FALSE;
}

static gboolean
is_enum_key (const char *key)
{
  return !strcmp (key, "layout") || !strcmp (key, "color")
         || !strcmp (key, "resize") || !strcmp (key, "type")
         || !strcmp (key, "decoder");
}

static gboolean
load_ini (MaceModelConfig *c, const char *path, GError **error)
{
  GKeyFile *kf = g_key_file_new ();
  gboolean ok = g_key_file_load_from_file (kf, path, G_KEY_FILE_NONE, error);
  if (!ok) {
    g_prefix_error (error, "%s: ", path);
    g_key_file_free (kf);
    return FALSE;
  }
  gchar **groups = g_key_file_get_groups (kf, NULL);
  for (int gi = 0; ok && groups[gi]; gi++) {
    if (strcmp (groups[gi], "input") && strcmp (groups[gi], "decoder")
        && strcmp (groups[gi], "output")) {
      g_set_error (error, CONFIG_ERROR, 1,
                   "%s: unknown section [%s] (input, decoder, output)", path,
                   groups[gi]);
      ok = FALSE;
      break;
    }
    gchar **keys = g_key_file_get_keys (kf, groups[gi], NULL, NULL);
    for (int k = 0; ok && keys[k]; k++) {
      gchar *v = g_key_file_get_string (kf, groups[gi], keys[k], NULL);
      if (is_enum_key (keys[k])) {
        ok = set_enum (path, keys[k], g_strstrip (v), error, c);
      } else if (strcmp (keys[k], "labels") == 0) {
        g_strfreev (c->labels);
        c->labels = g_strsplit (v, ";", -1);
      } else {
        gchar **parts = g_strsplit_set (v, ";, ", -1);
        double nums[MACE_MAX_STRIDES + 1];
        int n = 0;
        for (int p = 0; parts[p] && ok; p++) {
          if (!parts[p][0])
            continue;
          char *end = NULL;
          double d = g_ascii_strtod (parts[p], &end);
          if (*end || n > MACE_MAX_STRIDES) {
            g_set_error (error, CONFIG_ERROR, 1, "%s: bad number '%s' in '%s'",
                         path, parts[p], keys[k]);
            ok = FALSE;
          }
          nums[n++] = d;
        }
        g_strfreev (parts);
        if (ok)
          ok = set_numbers (path, keys[k], nums, n, error, c);
      }
      g_free (v);
    }
    g_strfreev (keys);
  }
  g_strfreev (groups);
  g_key_file_free (kf);
  return ok;
}

static gboolean
load_json_object (MaceModelConfig *c, const char *path, JsonObject *o,
                  GError **error)
{
  GList *members = json_object_get_members (o);
  gboolean ok = TRUE;
  for (GList *l = members; ok && l; l = l->next) {
    const char *key = l->data;
    JsonNode *n = json_object_get_member (o, key);
    if (JSON_NODE_HOLDS_OBJECT (n)) {
      if (strcmp (key, "input") && strcmp (key, "decoder")
          && strcmp (key, "output")) {
        g_set_error (error, CONFIG_ERROR, 1, "%s: unknown section '%s'", path,
                     key);
        ok = FALSE;
      } else {
        ok = load_json_object (c, path, json_node_get_object (n), error);
      }
    } else if (is_enum_key (key) && JSON_NODE_HOLDS_VALUE (n)
               && json_node_get_value_type (n) == G_TYPE_STRING) {
      ok = set_enum (path, key, json_node_get_string (n), error, c);
    } else if (strcmp (key, "labels") == 0 && JSON_NODE_HOLDS_ARRAY (n)) {
      JsonArray *a = json_node_get_array (n);
      guint len = json_array_get_length (a);
      g_strfreev (c->labels);
      c->labels = g_new0 (char *, len + 1);
      for (guint i = 0; i < len; i++)
        c->labels[i] = g_strdup (json_array_get_string_element (a, i));
    } else if (JSON_NODE_HOLDS_ARRAY (n) || JSON_NODE_HOLDS_VALUE (n)) {
      double nums[MACE_MAX_STRIDES + 1];
      int cnt = 0;
      if (JSON_NODE_HOLDS_ARRAY (n)) {
        JsonArray *a = json_node_get_array (n);
        guint len = json_array_get_length (a);
        if (len > MACE_MAX_STRIDES) {
          g_set_error (error, CONFIG_ERROR, 1, "%s: too many values in '%s'",
                       path, key);
          ok = FALSE;
          break;
        }
        for (guint i = 0; i < len; i++)
          nums[cnt++] = json_array_get_double_element (a, i);
      } else if (json_node_get_value_type (n) == G_TYPE_STRING) {
        g_set_error (error, CONFIG_ERROR, 1, "%s: '%s' wants a number", path,
                     key);
        ok = FALSE;
        break;
      } else {
        nums[cnt++] = json_node_get_double (n);
      }
      ok = set_numbers (path, key, nums, cnt, error, c);
    } else {
      g_set_error (error, CONFIG_ERROR, 1, "%s: bad value for '%s'", path, key);
      ok = FALSE;
    }
  }
  g_list_free (members);
  return ok;
}

static gboolean
load_json (MaceModelConfig *c, const char *path, GError **error)
{
  JsonParser *p = json_parser_new ();
  gboolean ok = json_parser_load_from_file (p, path, error);
  if (!ok) {
    g_prefix_error (error, "%s: ", path);
  } else {
    JsonNode *root = json_parser_get_root (p);
    if (!root || !JSON_NODE_HOLDS_OBJECT (root)) {
      g_set_error (error, CONFIG_ERROR, 1, "%s: not a JSON object", path);
      ok = FALSE;
    } else {
      ok = load_json_object (c, path, json_node_get_object (root), error);
    }
  }
  g_object_unref (p);
  return ok;
}

gboolean
mace_model_config_load (MaceModelConfig *c, const char *path, GError **error)
{
  if (!g_file_test (path, G_FILE_TEST_IS_REGULAR)) {
    g_set_error (error, CONFIG_ERROR, 2, "%s: config file does not exist",
                 path);
    return FALSE;
  }
  gboolean ok = g_str_has_suffix (path, ".json") ? load_json (c, path, error)
                                                 : load_ini (c, path, error);
  if (ok) {
    g_free (c->path);
    c->path = g_strdup (path);
  }
  return ok;
}

char *
mace_model_config_find (const char *model)
{
  const char *exts[] = { ".json", ".ini" };
  for (int i = 0; i < 2; i++) {
    char *p = g_strconcat (model, exts[i], NULL);
    if (g_file_test (p, G_FILE_TEST_IS_REGULAR))
      return p;
    g_free (p);
  }
  if (g_str_has_suffix (model, ".onnx")) {
    char *stem = g_strndup (model, strlen (model) - 5);
    for (int i = 0; i < 2; i++) {
      char *p = g_strconcat (stem, exts[i], NULL);
      if (g_file_test (p, G_FILE_TEST_IS_REGULAR)) {
        g_free (stem);
        return p;
      }
      g_free (p);
    }
    g_free (stem);
  }
  return NULL;
}
