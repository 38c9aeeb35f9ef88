/* tessera-token-editing.c: rename and delete objects on a token
 *
 * Objects are named by the handles read earlier.  Before each change the
 * object is read again: if its class or ID changed since (another program
 * changed the token), nothing is touched.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "Tessera-Core"

#include "config.h"

#include <string.h>

#include <glib/gi18n-lib.h>

#include "tessera-private.h"
#include "tessera-token-editing.h"

/* A session of its own ------------------------------------------------------- */

/*
 * _tessera_session_open:
 * @read_write: a read-write session, for changing the token
 *
 * Holds the module and opens a session of its own on @slot.  The login is
 * the application's, so the session is logged in when the token is.
 * Close it with _tessera_session_close(), even on failure.
 */
gboolean
_tessera_session_open (TesseraSession  *write,
                       TesseraModule   *module,
                       CK_SLOT_ID       slot,
                       gboolean         read_write,
                       GError         **error)
{
  CK_FLAGS flags = CKF_SERIAL_SESSION | (read_write ? CKF_RW_SESSION : 0);
  CK_RV rv;

  write->module = module;
  write->session = CK_INVALID_HANDLE;
  write->functions = _tessera_module_begin (module);
  if (write->functions == NULL)
    {
      g_set_error_literal (error, TESSERA_PKCS11_ERROR, TESSERA_PKCS11_ERROR_MODULE,
                           _("The token’s module is not loaded."));
      return FALSE;
    }

  rv = write->functions->C_OpenSession (slot, flags, NULL, NULL, &write->session);
  if (rv != CKR_OK)
    {
      write->session = CK_INVALID_HANDLE;
      _tessera_set_ck_error (error, rv, _("Could not open a session on the token"));
      return FALSE;
    }
  return TRUE;
}

void
_tessera_session_close (TesseraSession *write)
{
  if (write->functions == NULL)
    return;
  if (write->session != CK_INVALID_HANDLE)
    write->functions->C_CloseSession (write->session);
  write->session = CK_INVALID_HANDLE;
  write->functions = NULL;
  _tessera_module_end (write->module);
}

CK_OBJECT_CLASS
_tessera_object_kind_to_class (TesseraObjectKind kind)
{
  switch (kind)
    {
    case TESSERA_OBJECT_KIND_PRIVATE_KEY:
      return CKO_PRIVATE_KEY;
    case TESSERA_OBJECT_KIND_PUBLIC_KEY:
      return CKO_PUBLIC_KEY;
    case TESSERA_OBJECT_KIND_CERTIFICATE:
      return CKO_CERTIFICATE;
    case TESSERA_OBJECT_KIND_DATA:
      return CKO_DATA;
    case TESSERA_OBJECT_KIND_SECRET_KEY:
      return CKO_SECRET_KEY;
    case TESSERA_OBJECT_KIND_OTHER:
    default:
      return (CK_OBJECT_CLASS) -1;
    }
}

/*
 * _tessera_object_check_unchanged:
 *
 * Returns: whether @object's handle still names an object of the same
 *   class and ID as when it was read
 */
gboolean
_tessera_object_check_unchanged (TesseraSession  *write,
                                 TesseraObject        *object,
                                 GError              **error)
{
  CK_OBJECT_CLASS klass = (CK_OBJECT_CLASS) -1;
  guint8 id[256];
  CK_ATTRIBUTE attributes[] = {
    { CKA_CLASS, &klass, sizeof klass },
    { CKA_ID, id, sizeof id },
  };
  GBytes *expected = tessera_object_get_id (object);
  CK_RV rv;

  rv = write->functions->C_GetAttributeValue (write->session, tessera_object_get_handle (object),
                                              attributes, G_N_ELEMENTS (attributes));
  if (rv == CKR_OBJECT_HANDLE_INVALID)
    {
      g_set_error (error, TESSERA_PKCS11_ERROR, TESSERA_PKCS11_ERROR_FAILED,
                   _("“%s” is no longer on the token. Nothing was changed."),
                   tessera_object_get_label (object));
      return FALSE;
    }
  if (rv != CKR_OK && rv != CKR_ATTRIBUTE_TYPE_INVALID && rv != CKR_BUFFER_TOO_SMALL)
    {
      _tessera_set_ck_error (error, rv, _("The object could not be read"));
      return FALSE;
    }

  if (klass != _tessera_object_kind_to_class (tessera_object_get_kind (object)) ||
      attributes[1].ulValueLen == (CK_ULONG) -1 ||
      attributes[1].ulValueLen > sizeof id ||   /* a module's lie, never read */
      (expected != NULL &&
       (attributes[1].ulValueLen != g_bytes_get_size (expected) ||
        memcmp (id, g_bytes_get_data (expected, NULL), attributes[1].ulValueLen) != 0)))
    {
      g_set_error (error, TESSERA_PKCS11_ERROR, TESSERA_PKCS11_ERROR_FAILED,
                   _("“%s” changed on the token since it was read. Nothing was changed; look at the token again."),
                   tessera_object_get_label (object));
      return FALSE;
    }
  return TRUE;
}

/* Rename and delete ------------------------------------------------------------ */

typedef struct
{
  TesseraModule *module;
  CK_SLOT_ID     slot;
  GPtrArray     *objects;
  char          *label;
} Edit;

static void
edit_free (Edit *edit)
{
  g_clear_object (&edit->module);
  g_clear_pointer (&edit->objects, g_ptr_array_unref);
  g_free (edit->label);
  g_free (edit);
}

static Edit *
edit_new (TesseraToken *token,
          GPtrArray    *objects,
          const char   *label)
{
  Edit *edit = g_new0 (Edit, 1);

  edit->module = g_object_ref (tessera_token_get_module (token));
  edit->slot = tessera_token_get_slot_id (token);
  edit->objects = g_ptr_array_new_with_free_func (g_object_unref);
  for (guint i = 0; i < objects->len; i++)
    g_ptr_array_add (edit->objects, g_object_ref (g_ptr_array_index (objects, i)));
  edit->label = g_strdup (label);
  return edit;
}

static void
set_label_thread (GTask        *task,
                  gpointer      source_object,
                  gpointer      task_data,
                  GCancellable *cancellable)
{
  Edit *edit = task_data;
  TesseraSession write;
  GError *error = NULL;

  if (!_tessera_session_open (&write, edit->module, edit->slot, TRUE, &error))
    goto out;

  /* Check all before changing any, so that a stale view changes nothing. */
  for (guint i = 0; i < edit->objects->len; i++)
    if (!_tessera_object_check_unchanged (&write, g_ptr_array_index (edit->objects, i), &error))
      goto out;

  for (guint i = 0; i < edit->objects->len; i++)
    {
      TesseraObject *object = g_ptr_array_index (edit->objects, i);
      CK_ATTRIBUTE attribute = { CKA_LABEL, edit->label, strlen (edit->label) };
      CK_RV rv;

      rv = write.functions->C_SetAttributeValue (write.session, tessera_object_get_handle (object),
                                                 &attribute, 1);
      if (rv != CKR_OK)
        {
          g_autofree char *what = g_strdup_printf (_("The token would not rename “%s”"),
                                                   tessera_object_get_label (object));
          _tessera_set_ck_error (&error, rv, what);
          goto out;
        }
    }

out:
  _tessera_session_close (&write);
  if (error != NULL)
    g_task_return_error (task, error);
  else
    g_task_return_boolean (task, TRUE);
}

/**
 * tessera_token_set_label_async:
 * @objects: (element-type TesseraObject): what to rename, read from @token
 * @label: the new CKA_LABEL
 *
 * Gives every object in @objects the label @label.  Read the token's
 * objects again afterwards.
 */
void
tessera_token_set_label_async (TesseraToken        *token,
                               GPtrArray           *objects,
                               const char          *label,
                               GCancellable        *cancellable,
                               GAsyncReadyCallback  callback,
                               gpointer             user_data)
{
  g_autoptr(GTask) task = g_task_new (token, cancellable, callback, user_data);
  GError *error = NULL;

  g_return_if_fail (label != NULL);

  g_task_set_source_tag (task, tessera_token_set_label_async);
  if (!tessera_check_label_text (label, &error))
    {
      g_task_return_error (task, error);
      return;
    }
  g_task_set_task_data (task, edit_new (token, objects, label), (GDestroyNotify) edit_free);
  g_task_run_in_thread (task, set_label_thread);
}

gboolean
tessera_token_set_label_finish (TesseraToken  *token,
                                GAsyncResult  *result,
                                GError       **error)
{
  return g_task_propagate_boolean (G_TASK (result), error);
}

static void
delete_thread (GTask        *task,
               gpointer      source_object,
               gpointer      task_data,
               GCancellable *cancellable)
{
  Edit *edit = task_data;
  TesseraSession write;
  g_autoptr(GString) deleted = g_string_new (NULL);
  GError *error = NULL;

  if (!_tessera_session_open (&write, edit->module, edit->slot, TRUE, &error))
    goto out;

  for (guint i = 0; i < edit->objects->len; i++)
    if (!_tessera_object_check_unchanged (&write, g_ptr_array_index (edit->objects, i), &error))
      goto out;

  for (guint i = 0; i < edit->objects->len; i++)
    {
      TesseraObject *object = g_ptr_array_index (edit->objects, i);
      CK_RV rv;

      rv = write.functions->C_DestroyObject (write.session, tessera_object_get_handle (object));
      if (rv != CKR_OK)
        {
          g_autofree char *what = NULL;

          if (deleted->len > 0)
            what = g_strdup_printf (_("The token would not delete “%s” (%s was deleted)"),
                                    tessera_object_get_label (object), deleted->str);
          else
            what = g_strdup_printf (_("The token would not delete “%s”; nothing was deleted"),
                                    tessera_object_get_label (object));
          _tessera_set_ck_error (&error, rv, what);
          goto out;
        }
      g_debug ("Deleted object %lu", tessera_object_get_handle (object));
      if (deleted->len > 0)
        g_string_append (deleted, ", ");
      g_string_append (deleted, tessera_object_get_kind_name (object));
    }

out:
  _tessera_session_close (&write);
  if (error != NULL)
    g_task_return_error (task, error);
  else
    g_task_return_boolean (task, TRUE);
}

/**
 * tessera_token_delete_objects_async:
 * @objects: (element-type TesseraObject): what to delete, read from @token
 *
 * Destroys the objects, in order: give a key's private key first.  Ask
 * the person first, naming each object.  If one cannot be deleted, the
 * error says which were.
 */
void
tessera_token_delete_objects_async (TesseraToken        *token,
                                    GPtrArray           *objects,
                                    GCancellable        *cancellable,
                                    GAsyncReadyCallback  callback,
                                    gpointer             user_data)
{
  g_autoptr(GTask) task = g_task_new (token, cancellable, callback, user_data);

  g_task_set_source_tag (task, tessera_token_delete_objects_async);
  g_task_set_task_data (task, edit_new (token, objects, NULL), (GDestroyNotify) edit_free);
  g_task_run_in_thread (task, delete_thread);
}

gboolean
tessera_token_delete_objects_finish (TesseraToken  *token,
                                     GAsyncResult  *result,
                                     GError       **error)
{
  return g_task_propagate_boolean (G_TASK (result), error);
}
