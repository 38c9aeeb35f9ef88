/* tessera-key.c: a private key with its public key and certificate
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "Tessera-Core"

#include "config.h"

#include <glib/gi18n-lib.h>

#include "tessera-private.h"

struct _TesseraKey
{
  GObject        parent_instance;

  TesseraObject *private_key;
  TesseraObject *public_key;
  TesseraObject *certificate;
};

G_DEFINE_FINAL_TYPE (TesseraKey, tessera_key, G_TYPE_OBJECT)

static void
tessera_key_finalize (GObject *object)
{
  TesseraKey *self = (TesseraKey *) object;

  g_clear_object (&self->private_key);
  g_clear_object (&self->public_key);
  g_clear_object (&self->certificate);

  G_OBJECT_CLASS (tessera_key_parent_class)->finalize (object);
}

static void
tessera_key_class_init (TesseraKeyClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = tessera_key_finalize;
}

static void
tessera_key_init (TesseraKey *self)
{
}

/* The object that speaks for the key: the private key, else the public
 * key, else the certificate. */
static TesseraObject *
tessera_key_get_main_object (TesseraKey *self)
{
  if (self->private_key != NULL)
    return self->private_key;
  if (self->public_key != NULL)
    return self->public_key;
  return self->certificate;
}

TesseraObject *
tessera_key_get_private_key (TesseraKey *self)
{
  g_return_val_if_fail (TESSERA_IS_KEY (self), NULL);
  return self->private_key;
}

TesseraObject *
tessera_key_get_public_key (TesseraKey *self)
{
  g_return_val_if_fail (TESSERA_IS_KEY (self), NULL);
  return self->public_key;
}

TesseraObject *
tessera_key_get_certificate (TesseraKey *self)
{
  g_return_val_if_fail (TESSERA_IS_KEY (self), NULL);
  return self->certificate;
}

/**
 * tessera_key_get_label:
 *
 * Returns: the first non-empty label of the private key, public key and
 *   certificate, in that order
 */
const char *
tessera_key_get_label (TesseraKey *self)
{
  TesseraObject *parts[3];

  g_return_val_if_fail (TESSERA_IS_KEY (self), NULL);

  parts[0] = self->private_key;
  parts[1] = self->public_key;
  parts[2] = self->certificate;
  for (guint i = 0; i < G_N_ELEMENTS (parts); i++)
    if (parts[i] != NULL && tessera_object_get_label (parts[i])[0] != '\0')
      return tessera_object_get_label (parts[i]);

  return "";
}

GBytes *
tessera_key_get_id (TesseraKey *self)
{
  g_return_val_if_fail (TESSERA_IS_KEY (self), NULL);
  return tessera_object_get_id (tessera_key_get_main_object (self));
}

const char *
tessera_key_get_id_hex (TesseraKey *self)
{
  g_return_val_if_fail (TESSERA_IS_KEY (self), NULL);
  return tessera_object_get_id_hex (tessera_key_get_main_object (self));
}

/* The key type comes from the first part that knows it: a private key
 * always does, a certificate does once GnuTLS has parsed it. */
static TesseraObject *
tessera_key_get_typed_object (TesseraKey *self)
{
  TesseraObject *parts[3] = { self->private_key, self->public_key, self->certificate };

  for (guint i = 0; i < G_N_ELEMENTS (parts); i++)
    if (parts[i] != NULL && tessera_object_get_key_type (parts[i]) != TESSERA_KEY_TYPE_NONE)
      return parts[i];

  return tessera_key_get_main_object (self);
}

TesseraKeyType
tessera_key_get_key_type (TesseraKey *self)
{
  g_return_val_if_fail (TESSERA_IS_KEY (self), TESSERA_KEY_TYPE_NONE);
  return tessera_object_get_key_type (tessera_key_get_typed_object (self));
}

guint
tessera_key_get_bits (TesseraKey *self)
{
  g_return_val_if_fail (TESSERA_IS_KEY (self), 0);
  return tessera_object_get_key_bits (tessera_key_get_typed_object (self));
}

/**
 * tessera_key_describe_type:
 *
 * Returns: (transfer full): "RSA 2048", "ECDSA P-256", "Ed25519"
 */
char *
tessera_key_describe_type (TesseraKey *self)
{
  char *description;

  g_return_val_if_fail (TESSERA_IS_KEY (self), NULL);

  description = tessera_object_describe_key_type (tessera_key_get_typed_object (self));
  if (description == NULL)
    description = g_strdup (_("Unknown key type"));
  return description;
}

/**
 * tessera_key_describe_parts:
 *
 * Returns: (transfer full): which objects make up the key, in words
 */
char *
tessera_key_describe_parts (TesseraKey *self)
{
  guint mask;

  g_return_val_if_fail (TESSERA_IS_KEY (self), NULL);

  mask = (self->private_key != NULL ? 1 : 0) |
         (self->public_key != NULL ? 2 : 0) |
         (self->certificate != NULL ? 4 : 0);

  switch (mask)
    {
    case 1:
      return g_strdup (_("Private key only"));
    case 2:
      return g_strdup (_("Public key only"));
    case 3:
      return g_strdup (_("Private and public key"));
    case 4:
      return g_strdup (_("Certificate only"));
    case 5:
      return g_strdup (_("Private key and certificate"));
    case 6:
      return g_strdup (_("Public key and certificate"));
    case 7:
      return g_strdup (_("Private key, public key and certificate"));
    default:
      g_return_val_if_reached (NULL);
    }
}

static gboolean
same_id (TesseraObject *a,
         TesseraObject *b)
{
  return g_bytes_equal (tessera_object_get_id (a), tessera_object_get_id (b));
}

/* Takes the first object of @kind in @pool with the same ID as @owner,
 * and, for key objects, of the same key type. */
static TesseraObject *
take_partner (GPtrArray         *pool,
              TesseraObject     *owner,
              TesseraObjectKind  kind)
{
  for (guint i = 0; i < pool->len; i++)
    {
      TesseraObject *candidate = g_ptr_array_index (pool, i);

      if (candidate == NULL || tessera_object_get_kind (candidate) != kind)
        continue;
      if (!same_id (candidate, owner))
        continue;
      if (kind == TESSERA_OBJECT_KIND_PUBLIC_KEY &&
          tessera_object_get_key_type (candidate) != tessera_object_get_key_type (owner))
        continue;

      pool->pdata[i] = NULL;
      return g_object_ref (candidate);
    }

  return NULL;
}

/**
 * tessera_key_group_objects:
 * @objects: (element-type TesseraObject): a token's objects
 *
 * Groups objects into keys the way OpenSSH pairs them: by CKA_ID.  Every
 * private key is a key; a public key or certificate joins the private key
 * with its ID.  Public keys and certificates left over are keys of their
 * own, because OpenSSH still lists them.
 *
 * Returns: (transfer full) (element-type TesseraKey): the keys
 */
GPtrArray *
tessera_key_group_objects (GPtrArray *objects)
{
  g_autoptr(GPtrArray) pool = g_ptr_array_new ();
  GPtrArray *keys = g_ptr_array_new_with_free_func (g_object_unref);
  static const TesseraObjectKind leaders[] = {
    TESSERA_OBJECT_KIND_PRIVATE_KEY,
    TESSERA_OBJECT_KIND_PUBLIC_KEY,
    TESSERA_OBJECT_KIND_CERTIFICATE,
  };

  for (guint i = 0; i < objects->len; i++)
    g_ptr_array_add (pool, g_ptr_array_index (objects, i));

  for (guint l = 0; l < G_N_ELEMENTS (leaders); l++)
    {
      for (guint i = 0; i < pool->len; i++)
        {
          TesseraObject *object = g_ptr_array_index (pool, i);
          TesseraKey *key;

          if (object == NULL || tessera_object_get_kind (object) != leaders[l])
            continue;

          pool->pdata[i] = NULL;
          key = g_object_new (TESSERA_TYPE_KEY, NULL);

          switch (leaders[l])
            {
            case TESSERA_OBJECT_KIND_PRIVATE_KEY:
              key->private_key = g_object_ref (object);
              key->public_key = take_partner (pool, object, TESSERA_OBJECT_KIND_PUBLIC_KEY);
              key->certificate = take_partner (pool, object, TESSERA_OBJECT_KIND_CERTIFICATE);
              break;
            case TESSERA_OBJECT_KIND_PUBLIC_KEY:
              key->public_key = g_object_ref (object);
              key->certificate = take_partner (pool, object, TESSERA_OBJECT_KIND_CERTIFICATE);
              break;
            default:
              key->certificate = g_object_ref (object);
              break;
            }

          g_ptr_array_add (keys, key);
        }
    }

  return keys;
}
