/* fuzz-module.c: a PKCS#11 module inside the fuzz target
 *
 * The honest module answers C_GetAttributeValue for one object as PKCS#11
 * says.  The scripted one answers whatever the input says, a module at its
 * worst short of writing past the room it is given (which no caller can
 * defend against):
 *
 *   C_FindObjectsInit    1 byte: the return value
 *   C_FindObjects        1 byte: the return value; 2 bytes: the count,
 *                        which may exceed the room; 1 byte: first handle
 *   C_GetAttributeValue  1 byte: the return value; then per attribute
 *                        1 byte: how it is answered
 *                          0  unavailable
 *                          1  2-byte length and value, per PKCS#11
 *                          2  4-byte length, claimed whatever the room
 *                             (bit 7 set: with the top 32 bits set too);
 *                             as much value as the room holds
 *                          3  a well-formed value: CK_ULONG or CK_BBOOL
 *                             from 1 byte, a curve's CKA_EC_PARAMS, else
 *                             as 1
 *
 * An input that runs out answers "unavailable" and finds nothing more.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include <string.h>

#include "tessera-module-host.h"
#include "fuzz-module.h"

const CK_TOKEN_INFO fuzz_token_info = {
  .label = "Fuzz                            ",
  .manufacturerID = "Tessera                         ",
  .model = "libFuzzer       ",
  .serialNumber = "0001            ",
  .flags = CKF_TOKEN_INITIALIZED | CKF_LOGIN_REQUIRED | CKF_USER_PIN_INITIALIZED,
};

void
fuzz_init (void)
{
  static gboolean done;

  if (done)
    return;
  done = TRUE;

  g_log_set_always_fatal (G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_WARNING);
  /* tessera_openssh_supports() would otherwise run `ssh -V` */
  g_setenv ("TESSERA_OPENSSH_VERSION", "10.1", TRUE);
  g_setenv ("TESSERA_IN_PROCESS_MODULES", "1", TRUE);
}

/* The honest module --------------------------------------------------------- */

static const FuzzAttribute *honest_attributes;
static gsize honest_n_attributes;
static gboolean honest_found;

static CK_RV
honest_get_attribute_value (CK_SESSION_HANDLE  session,
                            CK_OBJECT_HANDLE   object,
                            CK_ATTRIBUTE_PTR   template,
                            CK_ULONG           count)
{
  CK_RV rv = CKR_OK;

  if (object != 1)
    return CKR_OBJECT_HANDLE_INVALID;

  for (CK_ULONG i = 0; i < count; i++)
    {
      const FuzzAttribute *found = NULL;

      for (gsize a = 0; a < honest_n_attributes; a++)
        if (honest_attributes[a].type == template[i].type)
          found = &honest_attributes[a];

      if (found == NULL)
        {
          template[i].ulValueLen = CK_UNAVAILABLE_INFORMATION;
          rv = CKR_ATTRIBUTE_TYPE_INVALID;
        }
      else if (template[i].pValue == NULL)
        {
          template[i].ulValueLen = found->length;
        }
      else if (template[i].ulValueLen < found->length)
        {
          template[i].ulValueLen = CK_UNAVAILABLE_INFORMATION;
          rv = CKR_BUFFER_TOO_SMALL;
        }
      else
        {
          if (found->length > 0)
            memcpy (template[i].pValue, found->value, found->length);
          template[i].ulValueLen = found->length;
        }
    }
  return rv;
}

static CK_RV
honest_find_objects_init (CK_SESSION_HANDLE session,
                          CK_ATTRIBUTE_PTR  template,
                          CK_ULONG          count)
{
  honest_found = FALSE;
  return CKR_OK;
}

static CK_RV
honest_find_objects (CK_SESSION_HANDLE     session,
                     CK_OBJECT_HANDLE_PTR  objects,
                     CK_ULONG              max_count,
                     CK_ULONG_PTR          count)
{
  *count = 0;
  if (!honest_found && max_count > 0)
    {
      objects[0] = 1;
      *count = 1;
      honest_found = TRUE;
    }
  return CKR_OK;
}

static CK_RV
find_objects_final (CK_SESSION_HANDLE session)
{
  return CKR_OK;
}

CK_FUNCTION_LIST *
fuzz_module_honest (const FuzzAttribute *attributes,
                    gsize                n_attributes)
{
  static CK_FUNCTION_LIST functions = {
    .version = { 2, 40 },
    .C_GetAttributeValue = honest_get_attribute_value,
    .C_FindObjectsInit = honest_find_objects_init,
    .C_FindObjects = honest_find_objects,
    .C_FindObjectsFinal = find_objects_final,
  };

  honest_attributes = attributes;
  honest_n_attributes = n_attributes;
  return &functions;
}

/* The scripted module -------------------------------------------------------- */

static const uint8_t *script;
static size_t script_left;
static guint full_batches;

static guint
take (guint n_bytes)
{
  guint value = 0;

  for (guint i = 0; i < n_bytes; i++)
    {
      value <<= 8;
      if (script_left > 0)
        {
          value |= *script++;
          script_left--;
        }
    }
  return value;
}

/* Writes @length bytes of the script into @out, zeros once it runs out. */
static void
take_bytes (void  *out,
            gsize  length)
{
  gsize n = MIN (length, script_left);

  memcpy (out, script, n);
  memset ((guint8 *) out + n, 0, length - n);
  script += n;
  script_left -= n;
}

static CK_RV
take_rv (void)
{
  static const CK_RV others[] = {
    CKR_OBJECT_HANDLE_INVALID, CKR_GENERAL_ERROR, CKR_DEVICE_REMOVED, CKR_SESSION_HANDLE_INVALID,
    CKR_FUNCTION_FAILED, CKR_USER_NOT_LOGGED_IN, TESSERA_CKR_MODULE_INVALID_ANSWER, CKR_ARGUMENTS_BAD,
  };
  guint b = take (1);

  switch (b % 8)
    {
    case 4:
      return CKR_BUFFER_TOO_SMALL;
    case 5:
      return CKR_ATTRIBUTE_SENSITIVE;
    case 6:
      return CKR_ATTRIBUTE_TYPE_INVALID;
    case 7:
      return others[(b >> 3) % G_N_ELEMENTS (others)];
    default:
      return CKR_OK;
    }
}

static gboolean
is_ulong_attribute (CK_ATTRIBUTE_TYPE type)
{
  return type == CKA_CLASS || type == CKA_KEY_TYPE || type == CKA_CERTIFICATE_TYPE ||
         type == CKA_MODULUS_BITS;
}

static gboolean
is_bool_attribute (CK_ATTRIBUTE_TYPE type)
{
  switch (type)
    {
    case CKA_PRIVATE: case CKA_MODIFIABLE: case CKA_SIGN: case CKA_VERIFY:
    case CKA_ENCRYPT: case CKA_DECRYPT: case CKA_WRAP: case CKA_UNWRAP:
    case CKA_DERIVE: case CKA_SENSITIVE: case CKA_EXTRACTABLE:
    case CKA_ALWAYS_AUTHENTICATE: case CKA_LOCAL:
      return TRUE;
    default:
      return FALSE;
    }
}

/* Answers with @length bytes taken from the script, as PKCS#11 says. */
static void
answer_value (CK_ATTRIBUTE *attribute,
              gsize         length,
              const void   *fixed)
{
  g_autofree guint8 *value = g_malloc0 (MAX (length, 1));

  if (fixed != NULL)
    memcpy (value, fixed, length);
  else
    take_bytes (value, length);

  if (attribute->pValue == NULL)
    attribute->ulValueLen = length;
  else if (attribute->ulValueLen < length)
    attribute->ulValueLen = CK_UNAVAILABLE_INFORMATION;
  else
    {
      memcpy (attribute->pValue, value, length);
      attribute->ulValueLen = length;
    }
}

static void
answer_attribute (CK_ATTRIBUTE *attribute)
{
  static const struct { const char *der; gsize len; } curves[] = {
    { "\x06\x08\x2a\x86\x48\xce\x3d\x03\x01\x07", 10 },
    { "\x06\x05\x2b\x81\x04\x00\x22", 7 },
    { "\x06\x05\x2b\x81\x04\x00\x23", 7 },
    { "\x06\x03\x2b\x65\x70", 5 },
    { "\x13\x0c" "edwards25519", 14 },
    { "\x06\x05\x2b\x81\x04\x00\x0a", 7 },
  };
  guint mode = take (1);

  switch (mode % 4)
    {
    case 0:
      attribute->ulValueLen = CK_UNAVAILABLE_INFORMATION;
      break;

    case 1:
      answer_value (attribute, take (2), NULL);
      break;

    case 2:
      {
        CK_ULONG claimed = take (4);

        if (mode & 0x80)
          claimed |= ~(CK_ULONG) 0xffffffff;
        if (attribute->pValue != NULL)
          take_bytes (attribute->pValue, MIN (claimed, attribute->ulValueLen));
        attribute->ulValueLen = claimed;
      }
      break;

    default:
      if (is_ulong_attribute (attribute->type))
        {
          CK_ULONG value = take (1);
          answer_value (attribute, sizeof value, &value);
        }
      else if (is_bool_attribute (attribute->type))
        {
          CK_BBOOL value = take (1);
          answer_value (attribute, sizeof value, &value);
        }
      else if (attribute->type == CKA_EC_PARAMS)
        {
          guint i = take (1) % G_N_ELEMENTS (curves);
          answer_value (attribute, curves[i].len, curves[i].der);
        }
      else
        {
          answer_value (attribute, take (2), NULL);
        }
      break;
    }
}

static CK_RV
scripted_get_attribute_value (CK_SESSION_HANDLE  session,
                              CK_OBJECT_HANDLE   object,
                              CK_ATTRIBUTE_PTR   template,
                              CK_ULONG           count)
{
  CK_RV rv;

  if (script_left == 0)
    {
      for (CK_ULONG i = 0; i < count; i++)
        template[i].ulValueLen = CK_UNAVAILABLE_INFORMATION;
      return CKR_ATTRIBUTE_TYPE_INVALID;
    }

  rv = take_rv ();
  for (CK_ULONG i = 0; i < count; i++)
    answer_attribute (&template[i]);
  return rv;
}

static CK_RV
scripted_find_objects_init (CK_SESSION_HANDLE session,
                            CK_ATTRIBUTE_PTR  template,
                            CK_ULONG          count)
{
  full_batches = 0;
  return script_left > 0 ? take_rv () : CKR_OK;
}

static CK_RV
scripted_find_objects (CK_SESSION_HANDLE     session,
                       CK_OBJECT_HANDLE_PTR  objects,
                       CK_ULONG              max_count,
                       CK_ULONG_PTR          count)
{
  CK_RV rv;
  CK_ULONG n, first;

  *count = 0;
  if (script_left == 0)
    return CKR_OK;

  rv = take_rv ();
  n = take (2);
  first = take (1);

  /* Full batches keep the core asking: a few show that, more only cost time. */
  if (n >= max_count && ++full_batches > 3)
    n = 0;

  for (CK_ULONG i = 0; i < MIN (n, max_count); i++)
    objects[i] = first + i;
  *count = n;
  return rv;
}

CK_FUNCTION_LIST *
fuzz_module_scripted (const uint8_t *data,
                      size_t         size)
{
  static CK_FUNCTION_LIST functions = {
    .version = { 2, 40 },
    .C_GetAttributeValue = scripted_get_attribute_value,
    .C_FindObjectsInit = scripted_find_objects_init,
    .C_FindObjects = scripted_find_objects,
    .C_FindObjectsFinal = find_objects_final,
  };

  script = data;
  script_left = size;
  full_batches = 0;
  return &functions;
}

/* Using what was read ---------------------------------------------------------- */

void
fuzz_use_ssh_blob (GBytes     *blob,
                   const char *comment)
{
  g_autofree char *line = NULL;
  g_autofree char *sha256 = NULL;
  g_autofree char *md5 = NULL;
  g_autofree char *fingerprint_line = NULL;
  gnutls_pubkey_t pubkey;

  tessera_ssh_blob_get_type (blob);
  tessera_ssh_blob_get_bits (blob);
  tessera_ssh_blob_get_type_label (blob);
  sha256 = tessera_ssh_fingerprint_sha256 (blob);
  md5 = tessera_ssh_fingerprint_md5 (blob);
  fingerprint_line = tessera_ssh_format_fingerprint_line (blob, comment, FALSE);
  if (tessera_ssh_blob_get_type (blob) != NULL)
    line = tessera_ssh_format_line (blob, comment);

  pubkey = _tessera_pubkey_from_ssh_blob (blob);
  if (pubkey != NULL)
    gnutls_pubkey_deinit (pubkey);
}

static void
use_object (TesseraObject *object)
{
  g_autoptr(GBytes) blob = NULL;
  g_autoptr(GBytes) pem = NULL;

  g_free (tessera_object_describe_key_type (object));
  g_free (tessera_object_describe_usage (object));
  tessera_object_get_kind (object);
  tessera_object_get_kind_name (object);
  tessera_object_get_label (object);
  tessera_object_get_id (object);
  tessera_object_get_id_hex (object);
  tessera_object_get_uri (object);
  tessera_object_get_key_bits (object);
  tessera_object_get_curve (object);
  tessera_object_get_subject (object);
  tessera_object_get_issuer (object);
  tessera_object_get_serial (object);
  tessera_object_get_not_before (object);
  tessera_object_get_not_after (object);
  tessera_object_get_fingerprint_sha256 (object);
  tessera_object_get_certificate_usage (object);
  tessera_object_get_parse_error (object);
  tessera_object_get_application (object);

  blob = tessera_ssh_blob_from_object (object, NULL);
  if (blob != NULL)
    fuzz_use_ssh_blob (blob, tessera_object_get_label (object));

  if (tessera_object_get_kind (object) == TESSERA_OBJECT_KIND_CERTIFICATE)
    {
      pem = tessera_certificate_export (object, TESSERA_CERTIFICATE_FORMAT_PEM, NULL);
      if (tessera_object_get_value (object) != NULL)
        g_free (tessera_ssh_subject_oneline (tessera_object_get_value (object)));
    }
}

void
fuzz_use_objects (GPtrArray *objects)
{
  g_autoptr(GListStore) store = g_list_store_new (TESSERA_TYPE_OBJECT);
  g_autoptr(GPtrArray) keys = NULL;
  g_autoptr(GPtrArray) identities = NULL;

  for (guint i = 0; i < objects->len; i++)
    {
      use_object (g_ptr_array_index (objects, i));
      g_list_store_append (store, g_ptr_array_index (objects, i));
    }

  keys = tessera_key_group_objects (objects);
  _tessera_key_assess_all (keys, TRUE);
  for (guint i = 0; i < keys->len; i++)
    {
      TesseraKey *key = g_ptr_array_index (keys, i);

      g_free (tessera_key_describe_type (key));
      g_free (tessera_key_describe_parts (key));
      g_free (tessera_key_get_ssh_line (key));
      g_free (tessera_key_get_ssh_fingerprint (key));
      g_free (tessera_key_describe_ssh_verdict (key));
      g_ptr_array_unref (tessera_key_list_objects (key));
      tessera_key_get_label (key);
      tessera_key_get_bits (key);
    }

  identities = tessera_ssh_list_identities (G_LIST_MODEL (store), NULL);
}
