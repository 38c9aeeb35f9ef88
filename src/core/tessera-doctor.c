/* tessera-doctor.c: finds and repairs the object mismatches OpenSSH trips on
 *
 * OpenSSH finds a key through its public-key or certificate object, then
 * looks for the private key with the same CKA_ID.  Guides that write a
 * certificate with pkcs11-tool under a made-up ID, or that lose the
 * public-key object, leave keys OpenSSH cannot use.  The doctor pairs
 * objects by key material (or, for keys that hide their public part, by
 * a test signature), never by label or guess, and repairs only what it
 * proved.  Every fix keeps the originals until their replacement is
 * written and checked, and ends with a test signature.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "Tessera-Core"

#include "config.h"

#include <string.h>

#include <glib/gi18n-lib.h>

#include "tessera-certificate.h"
#include "tessera-doctor.h"
#include "tessera-private.h"

struct _TesseraProblem
{
  GObject             parent_instance;

  TesseraProblemKind  kind;
  char               *title;
  char               *description;
  char               *fix_description;
  GBytes             *key_id;
  GPtrArray          *objects;

  /* What the fix needs */
  TesseraObject      *private_key;
  GBytes             *blob;
};

G_DEFINE_FINAL_TYPE (TesseraProblem, tessera_problem, G_TYPE_OBJECT)

static void
tessera_problem_finalize (GObject *object)
{
  TesseraProblem *self = (TesseraProblem *) object;

  g_free (self->title);
  g_free (self->description);
  g_free (self->fix_description);
  g_clear_pointer (&self->key_id, g_bytes_unref);
  g_clear_pointer (&self->objects, g_ptr_array_unref);
  g_clear_object (&self->private_key);
  g_clear_pointer (&self->blob, g_bytes_unref);

  G_OBJECT_CLASS (tessera_problem_parent_class)->finalize (object);
}

static void
tessera_problem_class_init (TesseraProblemClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = tessera_problem_finalize;
}

static void
tessera_problem_init (TesseraProblem *self)
{
  self->objects = g_ptr_array_new_with_free_func (g_object_unref);
}

TesseraProblemKind
tessera_problem_get_kind (TesseraProblem *self)
{
  g_return_val_if_fail (TESSERA_IS_PROBLEM (self), 0);
  return self->kind;
}

/**
 * tessera_problem_get_kind_nick:
 *
 * Returns: "id-mismatch", "no-public-part", "shared-id" or "empty-id",
 *   for scripts
 */
const char *
tessera_problem_get_kind_nick (TesseraProblem *self)
{
  static const char *nicks[] = { "id-mismatch", "no-public-part", "shared-id", "empty-id" };

  g_return_val_if_fail (TESSERA_IS_PROBLEM (self), NULL);
  return nicks[self->kind];
}

/**
 * tessera_problem_get_title:
 *
 * Returns: the problem in one line of plain words
 */
const char *
tessera_problem_get_title (TesseraProblem *self)
{
  g_return_val_if_fail (TESSERA_IS_PROBLEM (self), NULL);
  return self->title;
}

/**
 * tessera_problem_get_description:
 *
 * Returns: why it matters, and what to do
 */
const char *
tessera_problem_get_description (TesseraProblem *self)
{
  g_return_val_if_fail (TESSERA_IS_PROBLEM (self), NULL);
  return self->description;
}

gboolean
tessera_problem_get_fixable (TesseraProblem *self)
{
  g_return_val_if_fail (TESSERA_IS_PROBLEM (self), FALSE);
  return self->fix_description != NULL;
}

/**
 * tessera_problem_get_fix_description:
 *
 * Returns: (nullable): what the fix does, when there is one
 */
const char *
tessera_problem_get_fix_description (TesseraProblem *self)
{
  g_return_val_if_fail (TESSERA_IS_PROBLEM (self), NULL);
  return self->fix_description;
}

/**
 * tessera_problem_get_key_id:
 *
 * Returns: the CKA_ID of the key the problem concerns: the private key's
 *   for a mismatch or a hidden key, the shared or empty ID otherwise
 */
GBytes *
tessera_problem_get_key_id (TesseraProblem *self)
{
  g_return_val_if_fail (TESSERA_IS_PROBLEM (self), NULL);
  return self->key_id;
}

/**
 * tessera_problem_get_objects:
 *
 * Returns: (transfer none) (element-type TesseraObject): the objects at fault
 */
GPtrArray *
tessera_problem_get_objects (TesseraProblem *self)
{
  g_return_val_if_fail (TESSERA_IS_PROBLEM (self), NULL);
  return self->objects;
}

static const char *
label_or_id (TesseraObject *object)
{
  const char *label = tessera_object_get_label (object);

  return label != NULL && *label != '\0' ? label : tessera_object_get_id_hex (object);
}

static TesseraProblem *
problem_new (TesseraProblemKind  kind,
             GBytes             *key_id)
{
  TesseraProblem *problem = g_object_new (TESSERA_TYPE_PROBLEM, NULL);

  problem->kind = kind;
  problem->key_id = g_bytes_ref (key_id);
  return problem;
}

/* Finding problems ----------------------------------------------------------------- */

static gboolean
has_id (TesseraObject *object)
{
  GBytes *id = tessera_object_get_id (object);

  return id != NULL && g_bytes_get_size (id) > 0;
}

static gboolean
same_id (TesseraObject *a,
         TesseraObject *b)
{
  return has_id (a) && has_id (b) && g_bytes_equal (tessera_object_get_id (a), tessera_object_get_id (b));
}

static gboolean
is_public_part (TesseraObject *object)
{
  TesseraObjectKind kind = tessera_object_get_kind (object);

  return kind == TESSERA_OBJECT_KIND_PUBLIC_KEY ||
         (kind == TESSERA_OBJECT_KIND_CERTIFICATE && tessera_object_get_parse_error (object) == NULL);
}

static gboolean
is_key_object (TesseraObject *object)
{
  TesseraObjectKind kind = tessera_object_get_kind (object);

  return kind == TESSERA_OBJECT_KIND_PRIVATE_KEY || kind == TESSERA_OBJECT_KIND_PUBLIC_KEY ||
         kind == TESSERA_OBJECT_KIND_CERTIFICATE;
}

static void
find_id_mismatches (CK_FUNCTION_LIST  *functions,
                    CK_SESSION_HANDLE  session,
                    GPtrArray         *objects,
                    GHashTable        *paired,
                    GPtrArray         *problems)
{
  for (guint i = 0; i < objects->len; i++)
    {
      TesseraObject *object = g_ptr_array_index (objects, i);
      g_autoptr(GBytes) blob = NULL;
      g_autoptr(GError) error = NULL;
      TesseraObject *private_key = NULL;
      TesseraProblem *problem;
      gboolean by_signature = FALSE;
      gboolean own_key = FALSE;

      if (!is_public_part (object))
        continue;

      for (guint j = 0; j < objects->len && !own_key; j++)
        {
          TesseraObject *other = g_ptr_array_index (objects, j);

          if (tessera_object_get_kind (other) == TESSERA_OBJECT_KIND_PRIVATE_KEY &&
              g_bytes_equal (tessera_object_get_id (other), tessera_object_get_id (object)))
            {
              own_key = TRUE;
              g_hash_table_add (paired, other);
            }
        }
      if (own_key)
        continue;

      blob = tessera_ssh_blob_from_object (object, NULL);
      if (blob == NULL)
        continue;
      private_key = _tessera_match_private_key (functions, session, objects, blob, &by_signature, &error);
      if (error != NULL)
        g_debug ("A test signature could not be made: %s", error->message);
      if (private_key == NULL)
        continue;   /* a CA certificate, or a key that is not here */

      g_hash_table_add (paired, private_key);
      problem = problem_new (TESSERA_PROBLEM_ID_MISMATCH, tessera_object_get_id (private_key));
      g_ptr_array_add (problem->objects, g_object_ref (object));
      problem->private_key = g_object_ref (private_key);
      problem->blob = g_bytes_ref (blob);

      if (tessera_object_get_kind (object) == TESSERA_OBJECT_KIND_CERTIFICATE)
        {
          problem->title = g_strdup_printf (_("Certificate “%s” has a different ID from its private key"),
                                            label_or_id (object));
          problem->description = g_strdup_printf (_("The certificate holds the public key of private key “%s” (%s), "
                                                    "but its ID is %s and the key’s is %s. "
                                                    "SSH finds the certificate, then cannot find its key."),
                                                  label_or_id (private_key),
                                                  by_signature ? _("proved by a test signature")
                                                               : _("same key material"),
                                                  tessera_object_get_id_hex (object),
                                                  tessera_object_get_id_hex (private_key));
          problem->fix_description = g_strdup_printf (_("Give the certificate the ID %s"),
                                                      tessera_object_get_id_hex (private_key));
        }
      else
        {
          problem->title = g_strdup_printf (_("Public key “%s” has a different ID from its private key"),
                                            label_or_id (object));
          problem->description = g_strdup_printf (_("The public key belongs to private key “%s” (%s), "
                                                    "but its ID is %s and the key’s is %s. "
                                                    "SSH finds the public key, then cannot find its private key."),
                                                  label_or_id (private_key),
                                                  by_signature ? _("proved by a test signature")
                                                               : _("same key material"),
                                                  tessera_object_get_id_hex (object),
                                                  tessera_object_get_id_hex (private_key));
          problem->fix_description = g_strdup_printf (_("Give the public key the ID %s"),
                                                      tessera_object_get_id_hex (private_key));
        }
      g_ptr_array_add (problems, problem);
    }
}

static void
find_hidden_keys (GPtrArray  *objects,
                  GHashTable *paired,
                  GPtrArray  *problems)
{
  for (guint i = 0; i < objects->len; i++)
    {
      TesseraObject *private_key = g_ptr_array_index (objects, i);
      g_autoptr(GBytes) blob = NULL;
      TesseraProblem *problem;

      if (tessera_object_get_kind (private_key) != TESSERA_OBJECT_KIND_PRIVATE_KEY ||
          g_hash_table_contains (paired, private_key))
        continue;

      problem = problem_new (TESSERA_PROBLEM_NO_PUBLIC_PART, tessera_object_get_id (private_key));
      g_ptr_array_add (problem->objects, g_object_ref (private_key));
      problem->private_key = g_object_ref (private_key);
      problem->title = g_strdup_printf (_("Private key “%s” has no public key or certificate"),
                                        label_or_id (private_key));

      blob = tessera_ssh_blob_from_object (private_key, NULL);
      if (blob != NULL)
        {
          problem->blob = g_bytes_ref (blob);
          problem->description = g_strdup (_("SSH lists keys by their public-key or certificate objects, so it cannot see this key. "
                                             "The token shows the key’s public part, so a public-key object can be made from it."));
          problem->fix_description = g_strdup (_("Create the public-key object (or, if the token refuses, a self-signed certificate)"));
        }
      else
        {
          problem->description = g_strdup (_("SSH lists keys by their public-key or certificate objects, so it cannot see this key. "
                                             "The token hides this key’s public part, so it cannot be recreated: "
                                             "import the key’s certificate or public key, if you still have it."));
        }
      g_ptr_array_add (problems, problem);
    }
}

static void
find_id_clashes (GPtrArray *objects,
                 GPtrArray *problems)
{
  g_autoptr(GHashTable) reported = g_hash_table_new (NULL, NULL);

  for (guint i = 0; i < objects->len; i++)
    {
      TesseraObject *object = g_ptr_array_index (objects, i);
      TesseraProblem *problem;

      if (!is_key_object (object) || g_hash_table_contains (reported, object))
        continue;

      if (!has_id (object))
        {
          problem = problem_new (TESSERA_PROBLEM_EMPTY_ID, tessera_object_get_id (object));
          g_ptr_array_add (problem->objects, g_object_ref (object));
          problem->title = g_strdup_printf (_("%s “%s” has no ID"), tessera_object_get_kind_name (object),
                                            label_or_id (object));
          problem->description = g_strdup (_("Keys and certificates are paired by their ID. With an empty ID, "
                                             "SSH and other programs may pair it with the wrong object. "
                                             "Generate a new key, or write the object again with an ID."));
          g_ptr_array_add (problems, problem);
          continue;
        }

      problem = NULL;
      for (guint j = i + 1; j < objects->len; j++)
        {
          TesseraObject *other = g_ptr_array_index (objects, j);

          if (tessera_object_get_kind (other) != tessera_object_get_kind (object) || !same_id (object, other))
            continue;
          if (problem == NULL)
            {
              problem = problem_new (TESSERA_PROBLEM_SHARED_ID, tessera_object_get_id (object));
              g_ptr_array_add (problem->objects, g_object_ref (object));
            }
          g_ptr_array_add (problem->objects, g_object_ref (other));
          g_hash_table_add (reported, other);
        }
      if (problem == NULL)
        continue;

      {
        g_autoptr(GString) names = g_string_new (NULL);

        for (guint k = 0; k < problem->objects->len; k++)
          g_string_append_printf (names, "%s“%s”", k > 0 ? ", " : "",
                                  label_or_id (g_ptr_array_index (problem->objects, k)));
        problem->title = g_strdup_printf (_("%u objects of one kind share the ID %s"),
                                          problem->objects->len, tessera_object_get_id_hex (object));
        problem->description = g_strdup_printf (_("%s (%s) have the same ID, so programs cannot tell which one belongs to which key. "
                                                  "Delete the ones you no longer need."),
                                                names->str, tessera_object_get_kind_name (object));
      }
      g_ptr_array_add (problems, problem);
    }
}

typedef struct
{
  TesseraModule  *module;
  CK_SLOT_ID      slot;
  CK_TOKEN_INFO   token_info;
  GPtrArray      *objects;    /* the token's objects as last read, if read */
  TesseraProblem *problem;
} Doctor;

static void
doctor_free (Doctor *doctor)
{
  g_clear_object (&doctor->module);
  g_clear_pointer (&doctor->objects, g_ptr_array_unref);
  g_clear_object (&doctor->problem);
  g_free (doctor);
}

static Doctor *
doctor_new (TesseraToken *token)
{
  Doctor *doctor = g_new0 (Doctor, 1);
  P11KitUri *parsed = p11_kit_uri_new ();

  doctor->module = g_object_ref (tessera_token_get_module (token));
  doctor->slot = tessera_token_get_slot_id (token);
  if (p11_kit_uri_parse (tessera_token_get_uri (token), P11_KIT_URI_FOR_ANY, parsed) == P11_KIT_URI_OK)
    doctor->token_info = *p11_kit_uri_get_token_info (parsed);
  p11_kit_uri_free (parsed);
  return doctor;
}

static void
diagnose_thread (GTask        *task,
                 gpointer      source_object,
                 gpointer      task_data,
                 GCancellable *cancellable)
{
  Doctor *doctor = task_data;
  g_autoptr(GPtrArray) objects = NULL;
  g_autoptr(GPtrArray) problems = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr(GHashTable) paired = g_hash_table_new (NULL, NULL);
  TesseraSession session;
  GError *error = NULL;
  CK_RV rv;

  if (!_tessera_session_open (&session, doctor->module, doctor->slot, FALSE, &error))
    goto out;

  /* The session is for test signatures; the objects were read already,
   * unless the token's never were. */
  if (doctor->objects != NULL)
    objects = g_ptr_array_ref (doctor->objects);
  else
    objects = _tessera_object_read_all (session.functions, session.session, &doctor->token_info,
                                        cancellable, &rv, &error);
  if (objects == NULL)
    goto out;

  find_id_mismatches (session.functions, session.session, objects, paired, problems);
  find_hidden_keys (objects, paired, problems);
  find_id_clashes (objects, problems);

out:
  _tessera_session_close (&session);

  if (error != NULL)
    g_task_return_error (task, error);
  else
    g_task_return_pointer (task, g_steal_pointer (&problems), (GDestroyNotify) g_ptr_array_unref);
}

/**
 * tessera_token_diagnose_async:
 *
 * Looks at every object of the token for the mismatches that make OpenSSH
 * fail: certificates and public keys under the wrong ID, private keys
 * without a public part, IDs shared within a class, empty IDs.  Log in
 * first, or private keys are not seen.  Private keys that hide their
 * public part are paired by test signatures, which need the login too.
 *
 * The objects are those last read (tessera_token_read_objects_async());
 * only a token never read is read here.  Read it again after a change.
 */
void
tessera_token_diagnose_async (TesseraToken        *token,
                              GCancellable        *cancellable,
                              GAsyncReadyCallback  callback,
                              gpointer             user_data)
{
  g_autoptr(GTask) task = g_task_new (token, cancellable, callback, user_data);
  Doctor *doctor = doctor_new (token);

  if (tessera_token_get_objects_loaded (token))
    {
      GListModel *objects = tessera_token_get_objects (token);
      guint n = g_list_model_get_n_items (objects);

      doctor->objects = g_ptr_array_new_full (n, g_object_unref);
      for (guint i = 0; i < n; i++)
        g_ptr_array_add (doctor->objects, g_list_model_get_item (objects, i));
    }

  g_task_set_source_tag (task, tessera_token_diagnose_async);
  g_task_set_task_data (task, doctor, (GDestroyNotify) doctor_free);
  g_task_run_in_thread (task, diagnose_thread);
}

/**
 * tessera_token_diagnose_finish:
 *
 * Returns: (transfer full) (element-type TesseraProblem): the problems,
 *   empty when the token is clean
 */
GPtrArray *
tessera_token_diagnose_finish (TesseraToken  *token,
                               GAsyncResult  *result,
                               GError       **error)
{
  return g_task_propagate_pointer (G_TASK (result), error);
}

/* Fixing ---------------------------------------------------------------------------- */

/* Reads @handle back and checks it holds what @original held, under @id. */
static gboolean
copy_is_faithful (TesseraSession *write,
                  Doctor              *doctor,
                  CK_OBJECT_HANDLE     handle,
                  TesseraObject       *original,
                  GBytes              *id)
{
  g_autoptr(GPtrArray) objects = NULL;
  g_autoptr(GError) error = NULL;
  CK_RV rv;

  objects = _tessera_object_read_all (write->functions, write->session, &doctor->token_info, NULL, &rv, &error);
  for (guint i = 0; objects != NULL && i < objects->len; i++)
    {
      TesseraObject *copy = g_ptr_array_index (objects, i);
      g_autoptr(GBytes) copy_blob = NULL;
      g_autoptr(GBytes) original_blob = NULL;

      if (tessera_object_get_handle (copy) != handle)
        continue;
      if (tessera_object_get_kind (copy) != tessera_object_get_kind (original) ||
          !g_bytes_equal (tessera_object_get_id (copy), id) ||
          g_strcmp0 (tessera_object_get_label (copy), tessera_object_get_label (original)) != 0)
        return FALSE;
      if (tessera_object_get_kind (original) == TESSERA_OBJECT_KIND_CERTIFICATE)
        return tessera_object_get_value (copy) != NULL &&
               g_bytes_equal (tessera_object_get_value (copy), tessera_object_get_value (original));
      copy_blob = tessera_ssh_blob_from_object (copy, NULL);
      original_blob = tessera_ssh_blob_from_object (original, NULL);
      return copy_blob != NULL && original_blob != NULL && g_bytes_equal (copy_blob, original_blob);
    }
  return FALSE;
}

static gboolean
create_public_key (TesseraSession  *write,
                   TesseraObject        *source,
                   const char           *label,
                   GBytes               *id,
                   CK_OBJECT_HANDLE     *handle,
                   GError              **error)
{
  CK_OBJECT_CLASS klass = CKO_PUBLIC_KEY;
  CK_KEY_TYPE key_type;
  CK_BBOOL yes = CK_TRUE, no = CK_FALSE;
  CK_ATTRIBUTE template[10];
  CK_ULONG n = 0;
  CK_RV rv;

  template[n++] = (CK_ATTRIBUTE) { CKA_CLASS, &klass, sizeof klass };
  template[n++] = (CK_ATTRIBUTE) { CKA_KEY_TYPE, &key_type, sizeof key_type };
  template[n++] = (CK_ATTRIBUTE) { CKA_TOKEN, &yes, sizeof yes };
  template[n++] = (CK_ATTRIBUTE) { CKA_PRIVATE, &no, sizeof no };
  template[n++] = (CK_ATTRIBUTE) { CKA_VERIFY, &yes, sizeof yes };
  template[n++] = (CK_ATTRIBUTE) { CKA_LABEL, (void *) label, strlen (label) };
  template[n++] = (CK_ATTRIBUTE) { CKA_ID, (void *) g_bytes_get_data (id, NULL), g_bytes_get_size (id) };

  switch (tessera_object_get_key_type (source))
    {
    case TESSERA_KEY_TYPE_RSA:
      key_type = CKK_RSA;
      template[n++] = (CK_ATTRIBUTE) { CKA_MODULUS, (void *) g_bytes_get_data (tessera_object_get_modulus (source), NULL),
                                       g_bytes_get_size (tessera_object_get_modulus (source)) };
      template[n++] = (CK_ATTRIBUTE) { CKA_PUBLIC_EXPONENT,
                                       (void *) g_bytes_get_data (tessera_object_get_public_exponent (source), NULL),
                                       g_bytes_get_size (tessera_object_get_public_exponent (source)) };
      break;
    case TESSERA_KEY_TYPE_EC:
    case TESSERA_KEY_TYPE_ED25519:
      key_type = tessera_object_get_key_type (source) == TESSERA_KEY_TYPE_EC ? CKK_EC : 0x40UL /* CKK_EC_EDWARDS */;
      if (tessera_object_get_ec_params (source) == NULL || tessera_object_get_ec_point (source) == NULL)
        goto unreadable;
      template[n++] = (CK_ATTRIBUTE) { CKA_EC_PARAMS, (void *) g_bytes_get_data (tessera_object_get_ec_params (source), NULL),
                                       g_bytes_get_size (tessera_object_get_ec_params (source)) };
      template[n++] = (CK_ATTRIBUTE) { CKA_EC_POINT, (void *) g_bytes_get_data (tessera_object_get_ec_point (source), NULL),
                                       g_bytes_get_size (tessera_object_get_ec_point (source)) };
      break;
    default:
      goto unreadable;
    }
  if (tessera_object_get_key_type (source) == TESSERA_KEY_TYPE_RSA &&
      (tessera_object_get_modulus (source) == NULL || tessera_object_get_public_exponent (source) == NULL))
    goto unreadable;

  rv = write->functions->C_CreateObject (write->session, template, n, handle);
  if (rv != CKR_OK)
    {
      _tessera_set_ck_error (error, rv, _("The token would not store the public key"));
      return FALSE;
    }
  return TRUE;

unreadable:
  g_set_error_literal (error, TESSERA_PKCS11_ERROR, TESSERA_PKCS11_ERROR_FAILED,
                       _("The key’s public part cannot be read from the token."));
  return FALSE;
}

/*
 * Moves @object to @id: C_SetAttributeValue, or where the token refuses,
 * a copy under @id that is read back and compared before the original is
 * deleted.  If the original cannot be deleted, the copy is, and the
 * token is as it was.
 */
static gboolean
move_to_id (TesseraSession  *write,
            Doctor               *doctor,
            TesseraObject        *object,
            GBytes               *id,
            GError              **error)
{
  CK_ATTRIBUTE id_attribute = { CKA_ID, (void *) g_bytes_get_data (id, NULL), g_bytes_get_size (id) };
  CK_OBJECT_HANDLE copy = CK_INVALID_HANDLE;
  g_autoptr(GError) copy_error = NULL;
  CK_RV rv;

  rv = write->functions->C_SetAttributeValue (write->session, tessera_object_get_handle (object), &id_attribute, 1);
  if (rv == CKR_OK)
    return TRUE;
  g_debug ("The token would not change the ID (%s); copying instead", _tessera_ck_rv_name (rv));

  rv = write->functions->C_CopyObject (write->session, tessera_object_get_handle (object), &id_attribute, 1, &copy);
  if (rv != CKR_OK)
    {
      gboolean made;

      copy = CK_INVALID_HANDLE;
      if (tessera_object_get_kind (object) == TESSERA_OBJECT_KIND_CERTIFICATE)
        made = _tessera_certificate_create_object (write, tessera_object_get_value (object),
                                                   tessera_object_get_label (object), id, &copy, &copy_error);
      else
        made = create_public_key (write, object, tessera_object_get_label (object), id, &copy, &copy_error);
      if (!made)
        {
          g_set_error (error, TESSERA_PKCS11_ERROR, TESSERA_PKCS11_ERROR_FAILED,
                       _("The token would neither change the ID of “%s” nor store a copy with the right ID (%s). Nothing was changed."),
                       label_or_id (object), copy_error->message);
          return FALSE;
        }
    }

  if (!copy_is_faithful (write, doctor, copy, object, id))
    {
      write->functions->C_DestroyObject (write->session, copy);
      g_set_error (error, TESSERA_PKCS11_ERROR, TESSERA_PKCS11_ERROR_FAILED,
                   _("The copy of “%s” with the right ID did not read back the same, so it was removed. Nothing was changed."),
                   label_or_id (object));
      return FALSE;
    }

  rv = write->functions->C_DestroyObject (write->session, tessera_object_get_handle (object));
  if (rv != CKR_OK)
    {
      CK_RV undo = write->functions->C_DestroyObject (write->session, copy);

      if (undo == CKR_OK)
        g_set_error (error, TESSERA_PKCS11_ERROR, TESSERA_PKCS11_ERROR_FAILED,
                     _("The token would not delete the old “%s” (%s), so its copy with the right ID was removed again. Nothing was changed."),
                     label_or_id (object), _tessera_ck_rv_name (rv));
      else
        {
          g_autofree char *new_id = tessera_bytes_to_hex (id, 0);

          g_set_error (error, TESSERA_PKCS11_ERROR, TESSERA_PKCS11_ERROR_FAILED,
                       _("The token would not delete the old “%s” (%s), nor its new copy. Nothing was lost: the token holds it twice, with IDs %s and %s."),
                       label_or_id (object), _tessera_ck_rv_name (rv),
                       tessera_object_get_id_hex (object), new_id);
        }
      return FALSE;
    }
  return TRUE;
}

static gboolean
prove_pair (TesseraSession  *write,
            TesseraObject        *private_key,
            GBytes               *blob,
            GError              **error)
{
  gnutls_pubkey_t pubkey = _tessera_pubkey_from_ssh_blob (blob);
  g_autoptr(GError) sign_error = NULL;
  gboolean proved;

  if (pubkey == NULL)
    return TRUE;   /* a type GnuTLS cannot read: nothing to prove it with */
  proved = _tessera_test_sign (write->functions, write->session, tessera_object_get_handle (private_key),
                               tessera_object_get_key_type (private_key), pubkey, &sign_error);
  gnutls_pubkey_deinit (pubkey);
  if (!proved)
    {
      if (sign_error != NULL)
        g_set_error (error, TESSERA_PKCS11_ERROR, TESSERA_PKCS11_ERROR_FAILED,
                     _("The objects were repaired, but the test signature could not be made: %s"), sign_error->message);
      else
        g_set_error_literal (error, TESSERA_PKCS11_ERROR, TESSERA_PKCS11_ERROR_FAILED,
                             _("The objects were repaired, but the test signature does not verify with the public key."));
    }
  return proved;
}

static void
fix_thread (GTask        *task,
            gpointer      source_object,
            gpointer      task_data,
            GCancellable *cancellable)
{
  Doctor *doctor = task_data;
  TesseraProblem *problem = doctor->problem;
  TesseraSession write;
  GError *error = NULL;

  if (!_tessera_session_open (&write, doctor->module, doctor->slot, TRUE, &error))
    goto out;
  for (guint i = 0; i < problem->objects->len; i++)
    if (!_tessera_object_check_unchanged (&write, g_ptr_array_index (problem->objects, i), &error))
      goto out;
  if (!_tessera_object_check_unchanged (&write, problem->private_key, &error))
    goto out;

  if (problem->kind == TESSERA_PROBLEM_ID_MISMATCH)
    {
      if (!move_to_id (&write, doctor, g_ptr_array_index (problem->objects, 0),
                       tessera_object_get_id (problem->private_key), &error))
        goto out;
    }
  else
    {
      CK_OBJECT_HANDLE handle;
      g_autoptr(GError) public_error = NULL;

      if (!create_public_key (&write, problem->private_key, tessera_object_get_label (problem->private_key),
                              tessera_object_get_id (problem->private_key), &handle, &public_error))
        {
          g_autoptr(GBytes) der = NULL;
          const char *label = tessera_object_get_label (problem->private_key);

          g_debug ("No public-key object (%s); making a certificate instead", public_error->message);
          der = _tessera_certificate_build_self_signed (&write, problem->private_key, problem->blob,
                                                        label != NULL && *label != '\0'
                                                        ? label : TESSERA_CERTIFICATE_DEFAULT_COMMON_NAME,
                                                        TESSERA_CERTIFICATE_DEFAULT_DAYS, &error);
          if (der == NULL ||
              !_tessera_certificate_create_object (&write, der, label != NULL ? label : "",
                                                   tessera_object_get_id (problem->private_key), NULL, &error))
            goto out;
        }
    }

  prove_pair (&write, problem->private_key, problem->blob, &error);

out:
  _tessera_session_close (&write);
  if (error != NULL)
    g_task_return_error (task, error);
  else
    g_task_return_boolean (task, TRUE);
}

/**
 * tessera_token_fix_problem_async:
 * @problem: a fixable problem from tessera_token_diagnose_finish()
 *
 * Repairs @problem: an object under the wrong ID gets its private key's
 * ID (changed in place, or copied, checked, and only then the original
 * deleted); a private key without a public part gets a public-key object
 * made from its public attributes, or a self-signed certificate.  Ends
 * with a test signature that proves the pair.  Read the objects again
 * afterwards.
 */
void
tessera_token_fix_problem_async (TesseraToken        *token,
                                 TesseraProblem      *problem,
                                 GCancellable        *cancellable,
                                 GAsyncReadyCallback  callback,
                                 gpointer             user_data)
{
  g_autoptr(GTask) task = g_task_new (token, cancellable, callback, user_data);
  Doctor *doctor;

  g_task_set_source_tag (task, tessera_token_fix_problem_async);

  if (!tessera_problem_get_fixable (problem) || problem->private_key == NULL || problem->blob == NULL)
    {
      g_task_return_new_error (task, TESSERA_PKCS11_ERROR, TESSERA_PKCS11_ERROR_NOT_SUPPORTED,
                               _("Tessera cannot fix this problem by itself: %s"), problem->description);
      return;
    }

  doctor = doctor_new (token);
  doctor->problem = g_object_ref (problem);
  g_task_set_task_data (task, doctor, (GDestroyNotify) doctor_free);
  g_task_run_in_thread (task, fix_thread);
}

gboolean
tessera_token_fix_problem_finish (TesseraToken  *token,
                                  GAsyncResult  *result,
                                  GError       **error)
{
  return g_task_propagate_boolean (G_TASK (result), error);
}

/* The test signature ------------------------------------------------------------- */

typedef struct
{
  TesseraModule *module;
  CK_SLOT_ID     slot;
  TesseraObject *private_key;
  GBytes        *blob;
} TestKey;

static void
test_key_free (TestKey *test)
{
  g_clear_object (&test->module);
  g_clear_object (&test->private_key);
  g_clear_pointer (&test->blob, g_bytes_unref);
  g_free (test);
}

static void
test_key_thread (GTask        *task,
                 gpointer      source_object,
                 gpointer      task_data,
                 GCancellable *cancellable)
{
  TestKey *test = task_data;
  TesseraSession session;
  gnutls_pubkey_t pubkey = NULL;
  GError *error = NULL;

  if (!_tessera_session_open (&session, test->module, test->slot, FALSE, &error))
    goto out;

  pubkey = _tessera_pubkey_from_ssh_blob (test->blob);
  if (pubkey == NULL)
    {
      g_set_error_literal (&error, TESSERA_PKCS11_ERROR, TESSERA_PKCS11_ERROR_NOT_SUPPORTED,
                           _("Tessera cannot check signatures of this key type."));
      goto out;
    }

  if (!_tessera_test_sign (session.functions, session.session, tessera_object_get_handle (test->private_key),
                           tessera_object_get_key_type (test->private_key), pubkey, &error) &&
      error == NULL)
    g_set_error_literal (&error, TESSERA_PKCS11_ERROR, TESSERA_PKCS11_ERROR_FAILED,
                         _("The token signed, but the signature does not verify with the key’s public key: "
                           "the private key and the public key SSH sees are not a pair. Run the pairing check."));

out:
  if (pubkey != NULL)
    gnutls_pubkey_deinit (pubkey);
  _tessera_session_close (&session);

  if (error != NULL)
    g_task_return_error (task, error);
  else
    g_task_return_boolean (task, TRUE);
}

/**
 * tessera_token_test_key_async:
 * @key: a key with a private key and a public key SSH can see
 *
 * Signs a random challenge with the key's private key on the token and
 * verifies it with the public key SSH would offer: the proof that SSH
 * logins with this key will work.  Logged in.
 */
void
tessera_token_test_key_async (TesseraToken        *token,
                              TesseraKey          *key,
                              GCancellable        *cancellable,
                              GAsyncReadyCallback  callback,
                              gpointer             user_data)
{
  g_autoptr(GTask) task = g_task_new (token, cancellable, callback, user_data);
  TestKey *test;

  g_task_set_source_tag (task, tessera_token_test_key_async);

  if (tessera_key_get_private_key (key) == NULL)
    {
      g_task_return_new_error (task, TESSERA_PKCS11_ERROR, TESSERA_PKCS11_ERROR_FAILED,
                               _("The key’s private key is not visible. Log in first."));
      return;
    }
  if (tessera_key_get_ssh_blob (key) == NULL)
    {
      g_task_return_new_error (task, TESSERA_PKCS11_ERROR, TESSERA_PKCS11_ERROR_FAILED,
                               _("The token does not show this key’s public part."));
      return;
    }

  test = g_new0 (TestKey, 1);
  test->module = g_object_ref (tessera_token_get_module (token));
  test->slot = tessera_token_get_slot_id (token);
  test->private_key = g_object_ref (tessera_key_get_private_key (key));
  test->blob = g_bytes_ref (tessera_key_get_ssh_blob (key));
  g_task_set_task_data (task, test, (GDestroyNotify) test_key_free);
  g_task_run_in_thread (task, test_key_thread);
}

gboolean
tessera_token_test_key_finish (TesseraToken  *token,
                               GAsyncResult  *result,
                               GError       **error)
{
  return g_task_propagate_boolean (G_TASK (result), error);
}
