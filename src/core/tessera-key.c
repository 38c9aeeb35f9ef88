/* tessera-key.c: a private key with its public key and certificate
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "Tessera-Core"

#include "config.h"

#include <string.h>

#include <glib/gi18n-lib.h>

#include "tessera-private.h"
#include "tessera-ssh.h"

struct _TesseraKey
{
  GObject            parent_instance;

  TesseraObject     *private_key;
  TesseraObject     *public_key;
  TesseraObject     *certificate;

  /* What OpenSSH makes of it, set by _tessera_key_assess_all() */
  GBytes            *ssh_blob;
  char              *ssh_comment;
  TesseraSshVerdict  verdict;
};

G_DEFINE_FINAL_TYPE (TesseraKey, tessera_key, G_TYPE_OBJECT)

static void
tessera_key_finalize (GObject *object)
{
  TesseraKey *self = (TesseraKey *) object;

  g_clear_object (&self->private_key);
  g_clear_object (&self->public_key);
  g_clear_object (&self->certificate);
  g_clear_pointer (&self->ssh_blob, g_bytes_unref);
  g_clear_pointer (&self->ssh_comment, g_free);

  G_OBJECT_CLASS (tessera_key_parent_class)->finalize (object);
}

enum {
  CHANGED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

static void
tessera_key_class_init (TesseraKeyClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = tessera_key_finalize;

  /**
   * TesseraKey::changed:
   *
   * A read of the token changed what the key is made of or what OpenSSH
   * makes of it (a login revealed its private key, a rename, a fix): the
   * key stays the same instance, in the same place of the token's list.
   */
  signals[CHANGED] = g_signal_new ("changed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                                   0, NULL, NULL, NULL, G_TYPE_NONE, 0);
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

/* The object whose label names the key: the first that has one */
static TesseraObject *
labelled_part (TesseraKey *self)
{
  TesseraObject *parts[] = { self->private_key, self->public_key, self->certificate };

  for (guint i = 0; i < G_N_ELEMENTS (parts); i++)
    if (parts[i] != NULL && tessera_object_get_label (parts[i])[0] != '\0')
      return parts[i];
  return NULL;
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
  TesseraObject *part;

  g_return_val_if_fail (TESSERA_IS_KEY (self), NULL);

  part = labelled_part (self);
  return part != NULL ? tessera_object_get_label (part) : "";
}

/**
 * tessera_key_get_display_label:
 *
 * Returns: tessera_key_get_label() as it is shown to a person (see
 *   tessera_object_get_display_label())
 */
const char *
tessera_key_get_display_label (TesseraKey *self)
{
  TesseraObject *part;

  g_return_val_if_fail (TESSERA_IS_KEY (self), NULL);

  part = labelled_part (self);
  return part != NULL ? tessera_object_get_display_label (part) : "";
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

/**
 * tessera_key_list_objects:
 *
 * Returns: (transfer container) (element-type TesseraObject): the key's
 *   private key, public key and certificate, those it has, in that order
 */
GPtrArray *
tessera_key_list_objects (TesseraKey *self)
{
  GPtrArray *objects = g_ptr_array_new_with_free_func (g_object_unref);

  g_return_val_if_fail (TESSERA_IS_KEY (self), objects);

  if (self->private_key != NULL)
    g_ptr_array_add (objects, g_object_ref (self->private_key));
  if (self->public_key != NULL)
    g_ptr_array_add (objects, g_object_ref (self->public_key));
  if (self->certificate != NULL)
    g_ptr_array_add (objects, g_object_ref (self->certificate));
  return objects;
}

/* Partners are found by what pairs them: a public key by its ID and key
 * type, a certificate by its ID alone.  A partner's table key is a tag
 * (the key type, or CERTIFICATE_TAG) followed by the ID. */
#define CERTIFICATE_TAG 0xff

static GBytes *
partner_key (TesseraObject *object,
             guint8         tag)
{
  GBytes *id = tessera_object_get_id (object);
  gsize len = 0;
  const guint8 *data = id != NULL ? g_bytes_get_data (id, &len) : NULL;
  guint8 *key = g_malloc (len + 1);

  key[0] = tag;
  if (len > 0)
    memcpy (key + 1, data, len);
  return g_bytes_new_take (key, len + 1);
}

static guint8
partner_tag (TesseraObject     *object,
             TesseraObjectKind  kind)
{
  if (kind == TESSERA_OBJECT_KIND_CERTIFICATE)
    return CERTIFICATE_TAG;
  return (guint8) tessera_object_get_key_type (object);
}

/* Every public key and certificate of @pool, by partner key, each a queue
 * of pool positions (plus one) in pool order. */
static GHashTable *
index_partners (GPtrArray *pool)
{
  GHashTable *partners = g_hash_table_new_full (g_bytes_hash, g_bytes_equal,
                                                (GDestroyNotify) g_bytes_unref,
                                                (GDestroyNotify) g_queue_free);

  for (guint i = 0; i < pool->len; i++)
    {
      TesseraObject *object = g_ptr_array_index (pool, i);
      TesseraObjectKind kind = tessera_object_get_kind (object);
      g_autoptr(GBytes) key = NULL;
      GQueue *queue;

      if (kind != TESSERA_OBJECT_KIND_PUBLIC_KEY && kind != TESSERA_OBJECT_KIND_CERTIFICATE)
        continue;

      key = partner_key (object, partner_tag (object, kind));
      queue = g_hash_table_lookup (partners, key);
      if (queue == NULL)
        {
          queue = g_queue_new ();
          g_hash_table_insert (partners, g_bytes_ref (key), queue);
        }
      g_queue_push_tail (queue, GUINT_TO_POINTER (i + 1));
    }

  return partners;
}

/* Takes the first object of @kind in @pool with the same ID as @owner,
 * and, for public keys, of the same key type. */
static TesseraObject *
take_partner (GPtrArray         *pool,
              GHashTable        *partners,
              TesseraObject     *owner,
              TesseraObjectKind  kind)
{
  g_autoptr(GBytes) key = partner_key (owner, partner_tag (owner, kind));
  GQueue *queue = g_hash_table_lookup (partners, key);
  guint position;

  while (queue != NULL && (position = GPOINTER_TO_UINT (g_queue_pop_head (queue))) != 0)
    {
      TesseraObject *candidate = g_ptr_array_index (pool, position - 1);

      /* Gone already when it led a key of its own */
      if (candidate == NULL)
        continue;

      pool->pdata[position - 1] = NULL;
      return g_object_ref (candidate);
    }

  return NULL;
}

static int
compare_keys (gconstpointer a,
              gconstpointer b)
{
  TesseraKey *key_a = *(TesseraKey **) a;
  TesseraKey *key_b = *(TesseraKey **) b;
  gulong handle_a, handle_b;
  int order = g_utf8_collate (tessera_key_get_label (key_a), tessera_key_get_label (key_b));

  if (order != 0)
    return order;
  order = g_strcmp0 (tessera_key_get_id_hex (key_a), tessera_key_get_id_hex (key_b));
  if (order != 0)
    return order;

  /* Two keys of one label and ID keep their places from read to read */
  handle_a = tessera_object_get_handle (tessera_key_get_main_object (key_a));
  handle_b = tessera_object_get_handle (tessera_key_get_main_object (key_b));
  return handle_a < handle_b ? -1 : handle_a > handle_b;
}

/**
 * tessera_key_group_objects:
 * @objects: (element-type TesseraObject): a token's objects
 *
 * Groups objects into keys the way OpenSSH pairs them: by CKA_ID.  Every
 * private key is a key; a public key or certificate joins the private key
 * with its ID.  Public keys and certificates left over are keys of their
 * own, because OpenSSH still lists them.  Partners are looked up in hash
 * tables: the time grows with the number of objects, not its square.
 *
 * Returns: (transfer full) (element-type TesseraKey): the keys
 */
GPtrArray *
tessera_key_group_objects (GPtrArray *objects)
{
  g_autoptr(GPtrArray) pool = g_ptr_array_new ();
  g_autoptr(GHashTable) partners = NULL;
  GPtrArray *keys = g_ptr_array_new_with_free_func (g_object_unref);
  static const TesseraObjectKind leaders[] = {
    TESSERA_OBJECT_KIND_PRIVATE_KEY,
    TESSERA_OBJECT_KIND_PUBLIC_KEY,
    TESSERA_OBJECT_KIND_CERTIFICATE,
  };

  for (guint i = 0; i < objects->len; i++)
    g_ptr_array_add (pool, g_ptr_array_index (objects, i));
  partners = index_partners (pool);

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
              key->public_key = take_partner (pool, partners, object, TESSERA_OBJECT_KIND_PUBLIC_KEY);
              key->certificate = take_partner (pool, partners, object, TESSERA_OBJECT_KIND_CERTIFICATE);
              break;
            case TESSERA_OBJECT_KIND_PUBLIC_KEY:
              key->public_key = g_object_ref (object);
              key->certificate = take_partner (pool, partners, object, TESSERA_OBJECT_KIND_CERTIFICATE);
              break;
            default:
              key->certificate = g_object_ref (object);
              break;
            }

          g_ptr_array_add (keys, key);
        }
    }

  /* Modules return objects in an order of their own, which may change from
   * one run to the next: sort, so the list does not reshuffle. */
  g_ptr_array_sort (keys, compare_keys);

  return keys;
}

/* SSH ------------------------------------------------------------------------ */

/* The public key as OpenSSH sees it, from the public-key object, else the
 * certificate, else the private key's public attributes (RSA). */
static void
key_compute_ssh_blob (TesseraKey *self)
{
  if (self->public_key != NULL &&
      (self->ssh_blob = tessera_ssh_blob_from_object (self->public_key, NULL)) != NULL)
    {
      self->ssh_comment = g_strdup (tessera_object_get_label (self->public_key));
      return;
    }

  if (self->certificate != NULL && tessera_object_get_value (self->certificate) != NULL &&
      (self->ssh_blob = tessera_ssh_blob_from_object (self->certificate, NULL)) != NULL)
    {
      self->ssh_comment = tessera_ssh_subject_oneline (tessera_object_get_value (self->certificate));
      return;
    }

  if (self->private_key != NULL &&
      (self->ssh_blob = tessera_ssh_blob_from_object (self->private_key, NULL)) != NULL)
    self->ssh_comment = g_strdup (tessera_object_get_label (self->private_key));
}

static gboolean
key_has_public_object (TesseraKey *self)
{
  return self->public_key != NULL || self->certificate != NULL;
}

/* Counts the keys of each SSH blob among those that may be one half of a
 * key split under two IDs: private keys without public objects, or keys
 * without a private key.  Only an exact comparison counts: an RSA private
 * key shows its modulus, and some tokens show an EC private key's point.
 * Where the token hides it, nothing is claimed. */
static GHashTable *
count_halves (GPtrArray *keys,
              gboolean   lone_private)
{
  GHashTable *counts = g_hash_table_new (g_bytes_hash, g_bytes_equal);

  for (guint i = 0; i < keys->len; i++)
    {
      TesseraKey *key = g_ptr_array_index (keys, i);
      gboolean is_lone_private = key->private_key != NULL && !key_has_public_object (key);
      gboolean is_public_only = key->private_key == NULL;

      if (key->ssh_blob == NULL || (lone_private ? !is_lone_private : !is_public_only))
        continue;
      g_hash_table_insert (counts, key->ssh_blob,
                           GUINT_TO_POINTER (GPOINTER_TO_UINT (g_hash_table_lookup (counts, key->ssh_blob)) + 1));
    }

  return counts;
}

/* Whether exactly one other key is this one under another ID: a private
 * key without public objects and public objects without a private key,
 * of the same public key. */
static gboolean
has_twin (TesseraKey *self,
          GHashTable *lone_private,
          GHashTable *public_only)
{
  if (self->ssh_blob == NULL)
    return FALSE;
  if (self->private_key != NULL && !key_has_public_object (self))
    return GPOINTER_TO_UINT (g_hash_table_lookup (public_only, self->ssh_blob)) == 1;
  if (self->private_key == NULL)
    return GPOINTER_TO_UINT (g_hash_table_lookup (lone_private, self->ssh_blob)) == 1;
  return FALSE;
}

/*
 * _tessera_key_assess_all:
 * @keys: (element-type TesseraKey): every key of one token
 * @logged_in: whether private objects were visible when the keys were read
 *
 * Works out each key's SSH line and readiness verdict.
 */
void
_tessera_key_assess_all (GPtrArray *keys,
                         gboolean   logged_in)
{
  g_autoptr(GHashTable) lone_private = NULL;
  g_autoptr(GHashTable) public_only = NULL;

  for (guint i = 0; i < keys->len; i++)
    {
      TesseraKey *self = g_ptr_array_index (keys, i);

      g_clear_pointer (&self->ssh_blob, g_bytes_unref);
      g_clear_pointer (&self->ssh_comment, g_free);
      key_compute_ssh_blob (self);
    }

  lone_private = count_halves (keys, TRUE);
  public_only = count_halves (keys, FALSE);

  for (guint i = 0; i < keys->len; i++)
    {
      TesseraKey *self = g_ptr_array_index (keys, i);
      TesseraKeyType type = tessera_key_get_key_type (self);

      if (!tessera_openssh_supports (type) ||
          (type == TESSERA_KEY_TYPE_RSA && tessera_key_get_bits (self) < 1024) ||
          (type == TESSERA_KEY_TYPE_EC && self->ssh_blob == NULL && key_has_public_object (self)))
        self->verdict = TESSERA_SSH_VERDICT_UNSUPPORTED_TYPE;
      else if (self->private_key != NULL &&
               !(tessera_object_get_usage (self->private_key) & TESSERA_KEY_USAGE_SIGN))
        self->verdict = TESSERA_SSH_VERDICT_CANNOT_SIGN;
      else if (has_twin (self, lone_private, public_only))
        self->verdict = TESSERA_SSH_VERDICT_ID_MISMATCH;
      else if (self->private_key != NULL && !key_has_public_object (self))
        self->verdict = TESSERA_SSH_VERDICT_NO_PUBLIC_OBJECT;
      else if (self->private_key == NULL && !logged_in)
        self->verdict = TESSERA_SSH_VERDICT_LOGIN_NEEDED;
      else if (self->private_key == NULL)
        self->verdict = TESSERA_SSH_VERDICT_NO_PRIVATE_KEY;
      else
        self->verdict = TESSERA_SSH_VERDICT_READY;
    }
}

/*
 * _tessera_key_same:
 *
 * Whether @a and @b are one key as it shows: made of the same object
 * instances (see _tessera_object_same()), with the same SSH line and
 * verdict.  A token's list keeps the key it has when a new read gives
 * the same.
 */
gboolean
_tessera_key_same (TesseraKey *a,
                   TesseraKey *b)
{
  if (a == b)
    return TRUE;

  return a->private_key == b->private_key &&
         a->public_key == b->public_key &&
         a->certificate == b->certificate &&
         a->verdict == b->verdict &&
         (a->ssh_blob == NULL ? b->ssh_blob == NULL
                              : b->ssh_blob != NULL && g_bytes_equal (a->ssh_blob, b->ssh_blob)) &&
         g_strcmp0 (a->ssh_comment, b->ssh_comment) == 0;
}

/*
 * _tessera_key_take_parts:
 * @self: a key of the token's list
 * @other: the key a new read made of the same objects, or of some of them
 *
 * Takes @other's objects, SSH line and verdict into @self, and emits
 * #TesseraKey::changed: a key that changes keeps its instance, so a list
 * view rebinds nothing and the row updates in place.  Main thread, where
 * the token's lists live; operations copy what they need of a key when
 * they start.
 */
void
_tessera_key_take_parts (TesseraKey *self,
                         TesseraKey *other)
{
  g_return_if_fail (TESSERA_IS_KEY (self));
  g_return_if_fail (TESSERA_IS_KEY (other));

  if (_tessera_key_same (self, other))
    return;

  g_set_object (&self->private_key, other->private_key);
  g_set_object (&self->public_key, other->public_key);
  g_set_object (&self->certificate, other->certificate);
  g_clear_pointer (&self->ssh_blob, g_bytes_unref);
  if (other->ssh_blob != NULL)
    self->ssh_blob = g_bytes_ref (other->ssh_blob);
  g_free (self->ssh_comment);
  self->ssh_comment = g_strdup (other->ssh_comment);
  self->verdict = other->verdict;

  g_signal_emit (self, signals[CHANGED], 0);
}

/**
 * tessera_key_get_ssh_blob:
 *
 * Returns: (transfer none) (nullable): the public key in OpenSSH's wire
 *   encoding, or %NULL when the token shows no public part for it
 */
GBytes *
tessera_key_get_ssh_blob (TesseraKey *self)
{
  g_return_val_if_fail (TESSERA_IS_KEY (self), NULL);
  return self->ssh_blob;
}

/**
 * tessera_key_get_ssh_line:
 *
 * Returns: (transfer full) (nullable): the authorized_keys line, the one
 *   `ssh-keygen -D` prints for this key
 */
char *
tessera_key_get_ssh_line (TesseraKey *self)
{
  g_return_val_if_fail (TESSERA_IS_KEY (self), NULL);

  if (self->ssh_blob == NULL)
    return NULL;
  return tessera_ssh_format_line (self->ssh_blob, self->ssh_comment);
}

/**
 * tessera_key_get_ssh_fingerprint:
 *
 * Returns: (transfer full) (nullable): the SHA-256 fingerprint, as
 *   `ssh-keygen -l` prints it
 */
char *
tessera_key_get_ssh_fingerprint (TesseraKey *self)
{
  g_return_val_if_fail (TESSERA_IS_KEY (self), NULL);

  if (self->ssh_blob == NULL)
    return NULL;
  return tessera_ssh_fingerprint_sha256 (self->ssh_blob);
}

TesseraSshVerdict
tessera_key_get_ssh_verdict (TesseraKey *self)
{
  g_return_val_if_fail (TESSERA_IS_KEY (self), TESSERA_SSH_VERDICT_READY);
  return self->verdict;
}

static char *describe_verdict (TesseraKey *self);

/**
 * tessera_key_describe_ssh_verdict:
 *
 * Returns: (transfer full): the verdict as one sentence a person can act on
 */
char *
tessera_key_describe_ssh_verdict (TesseraKey *self)
{
  g_autofree char *verdict = NULL;

  g_return_val_if_fail (TESSERA_IS_KEY (self), NULL);

  verdict = describe_verdict (self);
  if (!tessera_ssh_comment_is_safe (self->ssh_comment))
    return g_strdup_printf ("%s %s", verdict,
                            _("Its label has control characters (such as a line break), so its SSH line carries no comment."));
  return g_steal_pointer (&verdict);
}

static char *
describe_verdict (TesseraKey *self)
{
  guint major = 0, minor = 0;

  switch (self->verdict)
    {
    case TESSERA_SSH_VERDICT_READY:
      return g_strdup (_("Ready for SSH."));
    case TESSERA_SSH_VERDICT_LOGIN_NEEDED:
      return g_strdup (_("Log in to check that the token holds this key’s private key."));
    case TESSERA_SSH_VERDICT_NO_PUBLIC_OBJECT:
      return g_strdup (_("OpenSSH cannot see this key: the token holds no public key or certificate for it."));
    case TESSERA_SSH_VERDICT_ID_MISMATCH:
      return g_strdup (_("OpenSSH lists this key but cannot sign with it: its public key or certificate has a different ID from its private key."));
    case TESSERA_SSH_VERDICT_NO_PRIVATE_KEY:
      if (self->public_key == NULL)
        return g_strdup (_("This is only a certificate: the token holds no private key for it, so it cannot log you in."));
      return g_strdup (_("This is only a public key: the token holds no private key for it, so it cannot log you in."));
    case TESSERA_SSH_VERDICT_UNSUPPORTED_TYPE:
      if (tessera_key_get_key_type (self) == TESSERA_KEY_TYPE_ED25519 &&
          tessera_openssh_get_version (&major, &minor))
        return g_strdup_printf (_("The installed OpenSSH %u.%u cannot use Ed25519 keys on a token; that needs OpenSSH 10.1 or later."),
                                major, minor);
      if (tessera_key_get_key_type (self) == TESSERA_KEY_TYPE_RSA)
        return g_strdup (_("OpenSSH does not accept RSA keys shorter than 1024 bits."));
      return g_strdup (_("OpenSSH cannot use keys of this type."));
    case TESSERA_SSH_VERDICT_CANNOT_SIGN:
      return g_strdup (_("The private key is not allowed to sign, so SSH cannot use it."));
    case TESSERA_SSH_VERDICT_TOKEN_NOT_INITIALIZED:
    default:
      return g_strdup (_("The token is not initialized."));
    }
}
