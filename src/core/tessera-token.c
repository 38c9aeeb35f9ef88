/* tessera-token.c: a token in a slot of a PKCS#11 module
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "Tessera-Core"

#include "config.h"

#include <string.h>

#include <glib/gi18n-lib.h>

#include "tessera-private.h"

/*
 * The token's fields belong to the main thread.  Worker threads get what
 * they need copied into their task data, and share only the session,
 * which the session lock guards.
 */
struct _TesseraToken
{
  GObject            parent_instance;

  TesseraModule     *module;
  CK_SLOT_ID         slot_id;
  CK_TOKEN_INFO      token_info;

  char              *uri;
  char              *label;
  char              *display_name;
  char              *manufacturer;
  char              *model;
  char              *serial;
  char              *hardware_version;
  char              *firmware_version;
  TesseraTokenState  state;
  TesseraTokenKind   kind;
  gint64             locked_out_since;
  gboolean           logged_in;
  gboolean           objects_loaded;

  GListStore        *objects;
  GListStore        *keys;
  GListStore        *certificates;
  GListStore        *other_objects;

  GMutex             session_lock;
  CK_SESSION_HANDLE  session;
};

G_DEFINE_FINAL_TYPE (TesseraToken, tessera_token, G_TYPE_OBJECT)

enum {
  PROP_0,
  PROP_LABEL,
  PROP_DISPLAY_NAME,
  PROP_STATE,
  PROP_LOGGED_IN,
  PROP_OBJECTS_LOADED,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

GType
tessera_token_state_get_type (void)
{
  static gsize type_id;

  if (g_once_init_enter (&type_id))
    {
      static const GFlagsValue values[] = {
        { TESSERA_TOKEN_STATE_NOT_INITIALIZED, "TESSERA_TOKEN_STATE_NOT_INITIALIZED", "not-initialized" },
        { TESSERA_TOKEN_STATE_USER_PIN_NOT_SET, "TESSERA_TOKEN_STATE_USER_PIN_NOT_SET", "user-pin-not-set" },
        { TESSERA_TOKEN_STATE_USER_PIN_TO_BE_CHANGED, "TESSERA_TOKEN_STATE_USER_PIN_TO_BE_CHANGED", "user-pin-to-be-changed" },
        { TESSERA_TOKEN_STATE_USER_PIN_COUNT_LOW, "TESSERA_TOKEN_STATE_USER_PIN_COUNT_LOW", "user-pin-count-low" },
        { TESSERA_TOKEN_STATE_USER_PIN_FINAL_TRY, "TESSERA_TOKEN_STATE_USER_PIN_FINAL_TRY", "user-pin-final-try" },
        { TESSERA_TOKEN_STATE_USER_PIN_LOCKED, "TESSERA_TOKEN_STATE_USER_PIN_LOCKED", "user-pin-locked" },
        { TESSERA_TOKEN_STATE_SO_PIN_TO_BE_CHANGED, "TESSERA_TOKEN_STATE_SO_PIN_TO_BE_CHANGED", "so-pin-to-be-changed" },
        { TESSERA_TOKEN_STATE_SO_PIN_COUNT_LOW, "TESSERA_TOKEN_STATE_SO_PIN_COUNT_LOW", "so-pin-count-low" },
        { TESSERA_TOKEN_STATE_SO_PIN_FINAL_TRY, "TESSERA_TOKEN_STATE_SO_PIN_FINAL_TRY", "so-pin-final-try" },
        { TESSERA_TOKEN_STATE_SO_PIN_LOCKED, "TESSERA_TOKEN_STATE_SO_PIN_LOCKED", "so-pin-locked" },
        { TESSERA_TOKEN_STATE_PROTECTED_AUTH_PATH, "TESSERA_TOKEN_STATE_PROTECTED_AUTH_PATH", "protected-auth-path" },
        { TESSERA_TOKEN_STATE_WRITE_PROTECTED, "TESSERA_TOKEN_STATE_WRITE_PROTECTED", "write-protected" },
        { TESSERA_TOKEN_STATE_LOGIN_REQUIRED, "TESSERA_TOKEN_STATE_LOGIN_REQUIRED", "login-required" },
        { TESSERA_TOKEN_STATE_REMOVED, "TESSERA_TOKEN_STATE_REMOVED", "removed" },
        { TESSERA_TOKEN_STATE_LOCKED_OUT, "TESSERA_TOKEN_STATE_LOCKED_OUT", "locked-out" },
        { 0, NULL, NULL }
      };
      GType type = g_flags_register_static (g_intern_static_string ("TesseraTokenState"), values);
      g_once_init_leave (&type_id, type);
    }

  return type_id;
}

static void
tessera_token_finalize (GObject *object)
{
  TesseraToken *self = (TesseraToken *) object;

  g_clear_object (&self->module);
  g_clear_pointer (&self->uri, g_free);
  g_clear_pointer (&self->label, g_free);
  g_clear_pointer (&self->display_name, g_free);
  g_clear_pointer (&self->manufacturer, g_free);
  g_clear_pointer (&self->model, g_free);
  g_clear_pointer (&self->serial, g_free);
  g_clear_pointer (&self->hardware_version, g_free);
  g_clear_pointer (&self->firmware_version, g_free);
  g_clear_object (&self->objects);
  g_clear_object (&self->keys);
  g_clear_object (&self->certificates);
  g_clear_object (&self->other_objects);
  g_mutex_clear (&self->session_lock);

  G_OBJECT_CLASS (tessera_token_parent_class)->finalize (object);
}

static void
tessera_token_get_property (GObject    *object,
                            guint       prop_id,
                            GValue     *value,
                            GParamSpec *pspec)
{
  TesseraToken *self = TESSERA_TOKEN (object);

  switch (prop_id)
    {
    case PROP_LABEL:
      g_value_set_string (value, self->label);
      break;
    case PROP_DISPLAY_NAME:
      g_value_set_string (value, self->display_name);
      break;
    case PROP_STATE:
      g_value_set_flags (value, self->state);
      break;
    case PROP_LOGGED_IN:
      g_value_set_boolean (value, self->logged_in);
      break;
    case PROP_OBJECTS_LOADED:
      g_value_set_boolean (value, self->objects_loaded);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
tessera_token_class_init (TesseraTokenClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = tessera_token_finalize;
  object_class->get_property = tessera_token_get_property;

  properties[PROP_LABEL] =
    g_param_spec_string ("label", NULL, NULL, NULL,
                         G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_DISPLAY_NAME] =
    g_param_spec_string ("display-name", NULL, NULL, NULL,
                         G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_STATE] =
    g_param_spec_flags ("state", NULL, NULL, TESSERA_TYPE_TOKEN_STATE, 0,
                        G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_LOGGED_IN] =
    g_param_spec_boolean ("logged-in", NULL, NULL, FALSE,
                          G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_OBJECTS_LOADED] =
    g_param_spec_boolean ("objects-loaded", NULL, NULL, FALSE,
                          G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
tessera_token_init (TesseraToken *self)
{
  g_mutex_init (&self->session_lock);
  self->objects = g_list_store_new (TESSERA_TYPE_OBJECT);
  self->keys = g_list_store_new (TESSERA_TYPE_KEY);
  self->certificates = g_list_store_new (TESSERA_TYPE_OBJECT);
  self->other_objects = g_list_store_new (TESSERA_TYPE_OBJECT);
}

static TesseraTokenState
decode_flags (CK_FLAGS flags)
{
  TesseraTokenState state = TESSERA_TOKEN_STATE_NONE;
  static const struct { CK_FLAGS flag; TesseraTokenState state; } map[] = {
    { CKF_USER_PIN_TO_BE_CHANGED, TESSERA_TOKEN_STATE_USER_PIN_TO_BE_CHANGED },
    { CKF_USER_PIN_COUNT_LOW, TESSERA_TOKEN_STATE_USER_PIN_COUNT_LOW },
    { CKF_USER_PIN_FINAL_TRY, TESSERA_TOKEN_STATE_USER_PIN_FINAL_TRY },
    { CKF_USER_PIN_LOCKED, TESSERA_TOKEN_STATE_USER_PIN_LOCKED },
    { CKF_SO_PIN_TO_BE_CHANGED, TESSERA_TOKEN_STATE_SO_PIN_TO_BE_CHANGED },
    { CKF_SO_PIN_COUNT_LOW, TESSERA_TOKEN_STATE_SO_PIN_COUNT_LOW },
    { CKF_SO_PIN_FINAL_TRY, TESSERA_TOKEN_STATE_SO_PIN_FINAL_TRY },
    { CKF_SO_PIN_LOCKED, TESSERA_TOKEN_STATE_SO_PIN_LOCKED },
    { CKF_PROTECTED_AUTHENTICATION_PATH, TESSERA_TOKEN_STATE_PROTECTED_AUTH_PATH },
    { CKF_WRITE_PROTECTED, TESSERA_TOKEN_STATE_WRITE_PROTECTED },
    { CKF_LOGIN_REQUIRED, TESSERA_TOKEN_STATE_LOGIN_REQUIRED },
  };

  if (!(flags & CKF_TOKEN_INITIALIZED))
    state |= TESSERA_TOKEN_STATE_NOT_INITIALIZED;
  if (!(flags & CKF_USER_PIN_INITIALIZED))
    state |= TESSERA_TOKEN_STATE_USER_PIN_NOT_SET;

  for (guint i = 0; i < G_N_ELEMENTS (map); i++)
    if (flags & map[i].flag)
      state |= map[i].state;

  return state;
}

static gboolean
contains_word (const char *haystack,
               const char *needle)
{
  g_autofree char *folded = g_utf8_casefold (haystack, -1);
  g_autofree char *folded_needle = g_utf8_casefold (needle, -1);

  return strstr (folded, folded_needle) != NULL;
}

/* What tpm2-pkcs11 calls itself in its CK_INFO (its tokens carry the TPM's
 * own manufacturer and model, which need not say "TPM") */
static gboolean
module_is_tpm2_pkcs11 (TesseraModule *module)
{
  const char *manufacturer = tessera_module_get_manufacturer (module);
  const char *description = tessera_module_get_description (module);

  return g_strcmp0 (manufacturer, "tpm2-software.github.io") == 0 ||
         (description != NULL && g_str_has_prefix (description, "TPM2.0 Cryptoki"));
}

static TesseraTokenKind
guess_kind (TesseraToken *self)
{
  const char *path = tessera_module_get_path (self->module);
  const char *fields[] = { self->model, self->manufacturer, path };
  static const struct { const char *word; TesseraTokenKind kind; } words[] = {
    { "SoftHSM", TESSERA_TOKEN_KIND_SOFTWARE },
    { "opencryptoki", TESSERA_TOKEN_KIND_SOFTWARE },
    { "Soft Token", TESSERA_TOKEN_KIND_SOFTWARE },
    { "SoftTok", TESSERA_TOKEN_KIND_SOFTWARE },
    { "tpm", TESSERA_TOKEN_KIND_TPM },
    { "YubiKey", TESSERA_TOKEN_KIND_USB_KEY },
    { "Nitrokey", TESSERA_TOKEN_KIND_USB_KEY },
    { "SoloKey", TESSERA_TOKEN_KIND_USB_KEY },
    { "Token", TESSERA_TOKEN_KIND_USB_KEY },
  };

  if (module_is_tpm2_pkcs11 (self->module))
    return TESSERA_TOKEN_KIND_TPM;

  /* opencryptoki's software token calls itself IBM / "Soft" */
  if (g_strcmp0 (self->model, "Soft") == 0)
    return TESSERA_TOKEN_KIND_SOFTWARE;

  for (guint w = 0; w < G_N_ELEMENTS (words); w++)
    for (guint f = 0; f < G_N_ELEMENTS (fields); f++)
      if (fields[f] != NULL && contains_word (fields[f], words[w].word))
        return words[w].kind;

  return TESSERA_TOKEN_KIND_SMART_CARD;
}

static void
pad_with_spaces (CK_UTF8CHAR *chars,
                 gsize        length)
{
  gsize end = length;

  while (end > 0 && (chars[end - 1] == ' ' || chars[end - 1] == '\0'))
    chars[--end] = ' ';
}

/*
 * _tessera_token_info_pad:
 * @token_info: a copy of a token's information, to be put in a URI
 *
 * PKCS#11 pads the text fields with spaces, and p11-kit drops trailing
 * spaces when it formats a URI.  Some modules pad the C way instead:
 * tpm2-pkcs11's model is "SW   TPM" and eight NULs, which would reach the
 * URI as %00%00….  Making any padding spaces gives URIs of the trimmed
 * fields, which tessera_registry_match_tokens() matches.
 */
void
_tessera_token_info_pad (CK_TOKEN_INFO *token_info)
{
  pad_with_spaces (token_info->label, sizeof token_info->label);
  pad_with_spaces (token_info->manufacturerID, sizeof token_info->manufacturerID);
  pad_with_spaces (token_info->model, sizeof token_info->model);
  pad_with_spaces (token_info->serialNumber, sizeof token_info->serialNumber);
}

static char *
build_uri (CK_SLOT_ID           slot_id,
           const CK_TOKEN_INFO *token_info)
{
  P11KitUri *uri = p11_kit_uri_new ();
  P11KitUriType type = P11_KIT_URI_FOR_TOKEN;
  char *string = NULL;

  memcpy (p11_kit_uri_get_token_info (uri), token_info, sizeof *token_info);
  _tessera_token_info_pad (p11_kit_uri_get_token_info (uri));

  /* A blank token has no identity of its own yet: its slot is all there is. */
  if (!(token_info->flags & CKF_TOKEN_INITIALIZED))
    {
      p11_kit_uri_set_slot_id (uri, slot_id);
      type = P11_KIT_URI_FOR_SLOT | P11_KIT_URI_FOR_TOKEN;
    }

  if (p11_kit_uri_format (uri, type, &string) != P11_KIT_URI_OK)
    string = g_strdup ("pkcs11:");
  p11_kit_uri_free (uri);

  return string;
}

/* What names the TPM behind a token: every token of one TPM has the
 * TPM's manufacturer, model and serial, and its lockout is theirs. */
static char *
tpm_identity (TesseraToken *self)
{
  const char *module = tessera_module_get_path (self->module);

  if (module == NULL)
    module = tessera_module_get_name (self->module);
  return g_strjoin ("\n", module != NULL ? module : "", self->manufacturer, self->model,
                    self->serial, NULL);
}

/*
 * _tessera_token_note_lockout:
 * @locked_out: whether a PIN was refused because the TPM is locked out;
 *   %FALSE when the TPM checked a PIN, right or wrong
 *
 * Main context, after a login or a PIN change on the token.  Only a TPM
 * locks out; for any other token this does nothing.
 */
void
_tessera_token_note_lockout (TesseraToken *self,
                             gboolean      locked_out)
{
  g_autofree char *tpm = NULL;
  TesseraTokenState state;

  if (self->kind != TESSERA_TOKEN_KIND_TPM || (self->state & TESSERA_TOKEN_STATE_NOT_INITIALIZED))
    return;

  /* Noted for the whole TPM: its other tokens, and the next process, see it */
  tpm = tpm_identity (self);
  _tessera_tpm_lockout_remember (tpm, locked_out);
  self->locked_out_since = locked_out ? g_get_real_time () / G_USEC_PER_SEC : 0;

  state = locked_out ? self->state | TESSERA_TOKEN_STATE_LOCKED_OUT
                     : self->state & ~TESSERA_TOKEN_STATE_LOCKED_OUT;
  if (state != self->state)
    {
      self->state = state;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_STATE]);
    }
}

static void
set_string (char       **field,
            char        *value,
            gboolean    *changed)
{
  if (g_strcmp0 (*field, value) != 0)
    *changed = TRUE;
  g_free (*field);
  *field = value;
}

/*
 * Sets the token's fields from fresh slot and token information.  Returns
 * whether anything visible changed.
 */
gboolean
_tessera_token_update_info (TesseraToken        *self,
                            CK_SLOT_ID           slot_id,
                            const CK_TOKEN_INFO *token_info)
{
  gboolean changed = FALSE;
  gboolean name_changed = FALSE;
  TesseraTokenState state;

  self->slot_id = slot_id;
  self->token_info = *token_info;

  /* A PIN length range that cannot be right is no range: the token will
   * say what it refuses.  The strings below come out as valid UTF-8 on
   * one line, whatever bytes the module put there. */
  if (token_info->ulMaxPinLen != 0 && token_info->ulMinPinLen > token_info->ulMaxPinLen)
    {
      self->token_info.ulMinPinLen = 0;
      self->token_info.ulMaxPinLen = 0;
    }

  set_string (&self->label, TESSERA_CK_STRING (token_info->label), &name_changed);
  set_string (&self->manufacturer, TESSERA_CK_STRING (token_info->manufacturerID), &changed);
  set_string (&self->model, TESSERA_CK_STRING (token_info->model), &changed);
  set_string (&self->serial, TESSERA_CK_STRING (token_info->serialNumber), &changed);
  set_string (&self->hardware_version,
              g_strdup_printf ("%u.%u", token_info->hardwareVersion.major,
                               token_info->hardwareVersion.minor), &changed);
  set_string (&self->firmware_version,
              g_strdup_printf ("%u.%u", token_info->firmwareVersion.major,
                               token_info->firmwareVersion.minor), &changed);
  set_string (&self->uri, build_uri (slot_id, token_info), &changed);

  if (self->label[0] != '\0')
    set_string (&self->display_name, g_strdup (self->label), &name_changed);
  else
    set_string (&self->display_name, g_strdup (_("Uninitialized token")), &name_changed);

  self->kind = guess_kind (self);
  self->locked_out_since = 0;
  if (self->kind == TESSERA_TOKEN_KIND_TPM && (token_info->flags & CKF_TOKEN_INITIALIZED))
    {
      g_autofree char *tpm = tpm_identity (self);

      self->locked_out_since = _tessera_tpm_lockout_lookup (tpm);
    }

  state = decode_flags (token_info->flags) | (self->state & TESSERA_TOKEN_STATE_REMOVED);
  if (self->locked_out_since != 0)
    state |= TESSERA_TOKEN_STATE_LOCKED_OUT;
  if (state != self->state)
    {
      self->state = state;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_STATE]);
      changed = TRUE;
    }

  if (name_changed)
    {
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_LABEL]);
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_DISPLAY_NAME]);
    }

  return changed || name_changed;
}

TesseraToken *
_tessera_token_new (TesseraModule       *module,
                    CK_SLOT_ID           slot_id,
                    const CK_TOKEN_INFO *token_info)
{
  TesseraToken *self = g_object_new (TESSERA_TYPE_TOKEN, NULL);

  self->module = g_object_ref (module);
  _tessera_token_update_info (self, slot_id, token_info);

  return self;
}

/* Whether @token_info describes this token, as a PKCS#11 URI would match it. */
gboolean
_tessera_token_same_identity (TesseraToken        *self,
                              const CK_TOKEN_INFO *token_info)
{
  const CK_TOKEN_INFO *mine = &self->token_info;

  if ((mine->flags & CKF_TOKEN_INITIALIZED) != (token_info->flags & CKF_TOKEN_INITIALIZED))
    return FALSE;

  return memcmp (mine->label, token_info->label, sizeof mine->label) == 0 &&
         memcmp (mine->manufacturerID, token_info->manufacturerID, sizeof mine->manufacturerID) == 0 &&
         memcmp (mine->model, token_info->model, sizeof mine->model) == 0 &&
         memcmp (mine->serialNumber, token_info->serialNumber, sizeof mine->serialNumber) == 0;
}

static void
token_set_logged_in (TesseraToken *self,
                     gboolean      logged_in)
{
  if (self->logged_in == logged_in)
    return;
  self->logged_in = logged_in;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_LOGGED_IN]);
}

/* Merging a read into the lists --------------------------------------------
 *
 * A read does not replace the lists: the window binds rows to their
 * items, and rebuilding every row on every read is what stalls it.  An
 * object read the same as before keeps its instance and its place, and
 * so does a key made of the same objects with the same verdict.  Items
 * whose read changed are replaced where they are, new ones are added and
 * gone ones removed, so that items-changed tells only what changed.
 */

/* Marks in @keep the longest sequence of entries of @source, in order,
 * whose values increase (G_MAXUINT entries take no part): the items that
 * can stay where they are while the others move around them. */
static void
mark_longest_increasing (const guint *source,
                         guint        n,
                         gboolean    *keep)
{
  g_autofree guint *tails = g_new (guint, n + 1);
  g_autofree guint *before = g_new (guint, n + 1);
  guint length = 0;

  for (guint i = 0; i < n; i++)
    {
      guint low = 0, high = length;

      if (source[i] == G_MAXUINT)
        continue;

      while (low < high)
        {
          guint middle = low + (high - low) / 2;

          if (source[tails[middle]] < source[i])
            low = middle + 1;
          else
            high = middle;
        }
      before[i] = low > 0 ? tails[low - 1] : G_MAXUINT;
      tails[low] = i;
      if (low == length)
        length++;
    }

  for (guint i = length > 0 ? tails[length - 1] : G_MAXUINT; i != G_MAXUINT; i = before[i])
    keep[i] = TRUE;
}

/*
 * Makes @store hold @wanted, in that order, with the fewest changes:
 * @previous maps an item of @wanted to the item of @store whose place it
 * takes; an item already in @store takes its own.  Each run of changed
 * places is one splice, so one items-changed; a store that already holds
 * @wanted emits none.
 */
static void
store_update (GListStore *store,
              GPtrArray  *wanted,
              GHashTable *previous)
{
  guint n_old = g_list_model_get_n_items (G_LIST_MODEL (store));
  g_autoptr(GPtrArray) old = g_ptr_array_new_full (n_old, g_object_unref);
  g_autoptr(GHashTable) old_positions = g_hash_table_new (NULL, NULL);
  g_autofree guint *source = g_new (guint, wanted->len + 1);
  g_autofree gboolean *anchored = g_new0 (gboolean, wanted->len + 1);
  g_autofree gboolean *old_anchored = g_new0 (gboolean, n_old + 1);
  guint position = 0;

  for (guint i = 0; i < n_old; i++)
    {
      gpointer item = g_list_model_get_item (G_LIST_MODEL (store), i);

      g_ptr_array_add (old, item);
      g_hash_table_insert (old_positions, item, GUINT_TO_POINTER (i + 1));
    }

  /* Where each wanted item was, and which of them can stay put */
  for (guint i = 0; i < wanted->len; i++)
    {
      gpointer item = g_ptr_array_index (wanted, i);
      gpointer was = g_hash_table_lookup (previous, item);
      guint old_position = GPOINTER_TO_UINT (g_hash_table_lookup (old_positions, was != NULL ? was : item));

      source[i] = old_position > 0 ? old_position - 1 : G_MAXUINT;
    }
  mark_longest_increasing (source, wanted->len, anchored);
  for (guint i = 0; i < wanted->len; i++)
    if (anchored[i])
      old_anchored[source[i]] = TRUE;

  /* Out go the items that are gone or that move, a run at a time, from
   * the end so that the positions still hold */
  for (guint end = n_old; end > 0;)
    {
      guint start = end - 1;

      if (old_anchored[start])
        {
          end--;
          continue;
        }
      while (start > 0 && !old_anchored[start - 1])
        start--;
      g_list_store_splice (store, start, end - start, NULL, 0);
      end = start;
    }

  /* The store now holds the anchored items in order: replace the changed
   * ones and put in the new ones, a run of changes at a time */
  for (guint i = 0; i < wanted->len;)
    {
      guint run_start = i;
      guint n_replaced = 0;

      while (i < wanted->len &&
             !(anchored[i] && g_ptr_array_index (old, source[i]) == g_ptr_array_index (wanted, i)))
        {
          if (anchored[i])
            n_replaced++;
          i++;
        }

      if (i > run_start)
        {
          g_list_store_splice (store, position, n_replaced, wanted->pdata + run_start, i - run_start);
          position += i - run_start;
        }
      else
        {
          position++;
          i++;
        }
    }
}

/* Pairs @objects, the token's objects as they are to show, into keys, and
 * merges those into the keys list: a key that had one of the objects (or
 * the object a changed one replaces) keeps its instance, and takes the
 * new parts and verdict in place.  @previous maps a changed object to the
 * one it replaces. */
static void
token_update_keys (TesseraToken *self,
                   GPtrArray    *objects,
                   GHashTable   *previous,
                   gboolean      logged_in)
{
  GListModel *model = G_LIST_MODEL (self->keys);
  guint n_old = g_list_model_get_n_items (model);
  g_autoptr(GPtrArray) keys = tessera_key_group_objects (objects);
  g_autoptr(GPtrArray) old = g_ptr_array_new_full (n_old, g_object_unref);
  g_autoptr(GPtrArray) wanted = g_ptr_array_new ();
  g_autoptr(GHashTable) owners = g_hash_table_new (NULL, NULL);
  g_autoptr(GHashTable) claimed = g_hash_table_new (NULL, NULL);
  g_autoptr(GHashTable) no_previous = g_hash_table_new (NULL, NULL); /* keys change, never replace */
  g_autoptr(GPtrArray) changed = g_ptr_array_new ();   /* old key, new parts: pairs */

  _tessera_key_assess_all (keys, logged_in);

  for (guint i = 0; i < n_old; i++)
    {
      TesseraKey *key = g_list_model_get_item (model, i);
      TesseraObject *parts[] = {
        tessera_key_get_private_key (key),
        tessera_key_get_public_key (key),
        tessera_key_get_certificate (key),
      };

      g_ptr_array_add (old, key);
      for (guint p = 0; p < G_N_ELEMENTS (parts); p++)
        if (parts[p] != NULL)
          g_hash_table_insert (owners, parts[p], key);
    }

  /* The old key that had one of a new key's objects is that key: after a
   * login, the key of a public key gains its private key in place. */
  for (guint i = 0; i < keys->len; i++)
    {
      TesseraKey *key = g_ptr_array_index (keys, i);
      TesseraObject *parts[] = {
        tessera_key_get_private_key (key),
        tessera_key_get_public_key (key),
        tessera_key_get_certificate (key),
      };
      TesseraKey *was = NULL;

      for (guint p = 0; p < G_N_ELEMENTS (parts) && was == NULL; p++)
        {
          TesseraObject *part = parts[p];
          TesseraObject *old_part;
          TesseraKey *owner;

          if (part == NULL)
            continue;
          old_part = g_hash_table_lookup (previous, part);
          owner = g_hash_table_lookup (owners, old_part != NULL ? old_part : part);
          if (owner != NULL && g_hash_table_add (claimed, owner))
            was = owner;
        }

      if (was != NULL)
        {
          g_ptr_array_add (wanted, was);
          if (!_tessera_key_same (was, key))
            {
              g_ptr_array_add (changed, was);
              g_ptr_array_add (changed, key);
            }
        }
      else
        g_ptr_array_add (wanted, key);
    }

  store_update (self->keys, wanted, no_previous);

  /* Once the list is as the read found it: the keys that changed change
   * in place, and keep their rows */
  for (guint i = 0; i < changed->len; i += 2)
    _tessera_key_take_parts (g_ptr_array_index (changed, i), g_ptr_array_index (changed, i + 1));
}

/*
 * Merges @objects, a full read of the token, into its lists.  Objects
 * are the same object when their handles are; one whose attributes read
 * the same keeps its instance and place, new ones go at the end.
 */
static void
token_set_objects (TesseraToken *self,
                   GPtrArray    *objects,
                   gboolean      logged_in)
{
  GListModel *model = G_LIST_MODEL (self->objects);
  guint n_old = g_list_model_get_n_items (model);
  g_autoptr(GPtrArray) old = g_ptr_array_new_full (n_old, g_object_unref);
  g_autoptr(GPtrArray) wanted = g_ptr_array_new ();
  g_autoptr(GPtrArray) fresh = g_ptr_array_new ();
  g_autoptr(GPtrArray) certificates = g_ptr_array_new ();
  g_autoptr(GPtrArray) others = g_ptr_array_new ();
  g_autoptr(GHashTable) by_handle = g_hash_table_new (NULL, NULL);
  g_autoptr(GHashTable) successors = g_hash_table_new (NULL, NULL);
  g_autoptr(GHashTable) previous = g_hash_table_new (NULL, NULL);

  for (guint i = 0; i < n_old; i++)
    {
      TesseraObject *object = g_list_model_get_item (model, i);

      g_ptr_array_add (old, object);
      g_hash_table_insert (by_handle, GSIZE_TO_POINTER ((gsize) tessera_object_get_handle (object)), object);
    }

  for (guint i = 0; objects != NULL && i < objects->len; i++)
    {
      TesseraObject *object = g_ptr_array_index (objects, i);
      gpointer handle = GSIZE_TO_POINTER ((gsize) tessera_object_get_handle (object));
      TesseraObject *was = g_hash_table_lookup (by_handle, handle);

      if (was == NULL)
        {
          g_ptr_array_add (fresh, object);
          continue;
        }

      /* One object per handle, should a module list a handle twice */
      g_hash_table_remove (by_handle, handle);
      if (_tessera_object_same (was, object))
        g_hash_table_insert (successors, was, was);
      else
        {
          g_hash_table_insert (successors, was, object);
          g_hash_table_insert (previous, object, was);
        }
    }

  for (guint i = 0; i < old->len; i++)
    {
      TesseraObject *successor = g_hash_table_lookup (successors, g_ptr_array_index (old, i));

      if (successor != NULL)
        g_ptr_array_add (wanted, successor);
    }
  g_ptr_array_extend (wanted, fresh, NULL, NULL);

  for (guint i = 0; i < wanted->len; i++)
    {
      TesseraObject *object = g_ptr_array_index (wanted, i);

      switch (tessera_object_get_kind (object))
        {
        case TESSERA_OBJECT_KIND_PRIVATE_KEY:
        case TESSERA_OBJECT_KIND_PUBLIC_KEY:
          break;
        case TESSERA_OBJECT_KIND_CERTIFICATE:
          g_ptr_array_add (certificates, object);
          break;
        default:
          g_ptr_array_add (others, object);
          break;
        }
    }

  token_update_keys (self, wanted, previous, logged_in);
  store_update (self->certificates, certificates, previous);
  store_update (self->other_objects, others, previous);
  store_update (self->objects, wanted, previous);

  if (!self->objects_loaded)
    {
      self->objects_loaded = TRUE;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_OBJECTS_LOADED]);
    }
}

/*
 * Merges @private_objects, read after a login, into the token's lists:
 * the objects that are not private stay as they were read before it.
 */
static void
token_merge_private_objects (TesseraToken *self,
                             GPtrArray    *private_objects,
                             gboolean      logged_in)
{
  GListModel *model = G_LIST_MODEL (self->objects);
  guint n = g_list_model_get_n_items (model);
  g_autoptr(GPtrArray) merged = g_ptr_array_new_full (n + private_objects->len, g_object_unref);

  for (guint i = 0; i < n; i++)
    {
      TesseraObject *object = g_list_model_get_item (model, i);

      if (tessera_object_get_private (object))
        g_object_unref (object);
      else
        g_ptr_array_add (merged, object);
    }
  for (guint i = 0; i < private_objects->len; i++)
    g_ptr_array_add (merged, g_object_ref (g_ptr_array_index (private_objects, i)));

  token_set_objects (self, merged, logged_in);
}

/*
 * Called by the registry when the token's slot no longer holds it.  The
 * module has already invalidated its sessions.
 */
void
_tessera_token_mark_removed (TesseraToken *self)
{
  g_mutex_lock (&self->session_lock);
  self->session = CK_INVALID_HANDLE;
  g_mutex_unlock (&self->session_lock);

  token_set_logged_in (self, FALSE);
  token_set_objects (self, NULL, FALSE);

  if (!(self->state & TESSERA_TOKEN_STATE_REMOVED))
    {
      self->state |= TESSERA_TOKEN_STATE_REMOVED;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_STATE]);
    }
}

/*
 * _tessera_token_close_session:
 *
 * Worker thread, inside _tessera_module_begin(): closes the token's
 * shared session, for operations that need none open (C_InitToken).
 * The login goes with it; operation results tell the main context.
 */
void
_tessera_token_close_session (TesseraToken     *self,
                              CK_FUNCTION_LIST *functions)
{
  g_mutex_lock (&self->session_lock);
  if (self->session != CK_INVALID_HANDLE)
    functions->C_CloseSession (self->session);
  self->session = CK_INVALID_HANDLE;
  g_mutex_unlock (&self->session_lock);
}

/* Main context: after an operation that ended the login. */
void
_tessera_token_set_logged_out (TesseraToken *self)
{
  token_set_logged_in (self, FALSE);
}

/* Worker-thread operations ------------------------------------------------- */

typedef enum {
  OPERATION_READ,
  OPERATION_LOGIN,
  OPERATION_LOGOUT,
} Operation;

typedef struct
{
  Operation          operation;
  TesseraModule     *module;
  CK_SLOT_ID         slot_id;
  CK_TOKEN_INFO      token_info;
  gboolean           protected_path;
  TesseraTokenKind   kind;
  char              *pin;
  gsize              pin_len;

  /* in: after a login, read only the private objects; out: whether
   * objects holds only those */
  gboolean           private_only;

  /* results */
  GPtrArray         *objects;
  CK_TOKEN_INFO      new_token_info;
  gboolean           have_new_token_info;
  gboolean           logged_in;
  gboolean           session_lost;
  gboolean           removed;
  CK_RV              login_rv;
} OperationData;

static void
operation_data_free (OperationData *data)
{
  if (data->pin != NULL)
    {
      explicit_bzero (data->pin, data->pin_len);
      g_free (data->pin);
    }
  g_clear_object (&data->module);
  g_clear_pointer (&data->objects, g_ptr_array_unref);
  g_free (data);
}

/* Opens the token's shared session if it has none.  Session lock held. */
static CK_RV
ensure_session (TesseraToken     *self,
                CK_FUNCTION_LIST *functions,
                CK_SLOT_ID        slot_id)
{
  if (self->session != CK_INVALID_HANDLE)
    return CKR_OK;

  return functions->C_OpenSession (slot_id, CKF_SERIAL_SESSION, NULL, NULL, &self->session);
}

static void
forget_session (TesseraToken *self)
{
  self->session = CK_INVALID_HANDLE;
}

static void
set_login_error (GError             **error,
                 CK_RV                rv,
                 const CK_TOKEN_INFO *token_info,
                 gboolean             have_info,
                 TesseraTokenKind     kind)
{
  if (rv != CKR_PIN_INCORRECT && rv != CKR_PIN_LOCKED)
    _tessera_set_ck_error (error, rv, _("Could not log in"));
  else
    _tessera_set_pin_error (error, rv, have_info ? token_info->flags : 0, FALSE, kind);
}

static gboolean
session_is_stale (CK_RV rv)
{
  return rv == CKR_SESSION_HANDLE_INVALID || rv == CKR_SESSION_CLOSED;
}

/* The calls of one operation, under the module's and the session's locks.
 * Returns the failing return value, or CKR_OK with data->objects set. */
static CK_RV
operation_run (TesseraToken     *self,
               OperationData    *data,
               CK_FUNCTION_LIST *functions,
               GCancellable     *cancellable,
               GError          **error)
{
  CK_RV rv = CKR_OK;

  /* A stale session (the token was re-initialised, or pulled and put
   * back between two looks) is worth one fresh try.  Its login is gone
   * with it. */
  for (guint attempt = 0; attempt < 2; attempt++)
    {
      g_clear_error (error);

      rv = ensure_session (self, functions, data->slot_id);
      if (rv != CKR_OK)
        {
          _tessera_set_ck_error (error, rv, _("Could not open a session on the token"));
          return rv;
        }

      if (data->operation == OPERATION_LOGIN)
        {
          CK_UTF8CHAR_PTR pin = data->protected_path ? NULL : (CK_UTF8CHAR_PTR) data->pin;
          CK_ULONG pin_len = data->protected_path ? 0 : data->pin_len;

          rv = functions->C_Login (self->session, CKU_USER, pin, pin_len);
          if (rv == CKR_USER_ALREADY_LOGGED_IN)
            rv = CKR_OK;
          data->login_rv = rv;
        }
      else if (data->operation == OPERATION_LOGOUT)
        {
          rv = functions->C_Logout (self->session);
          if (rv == CKR_USER_NOT_LOGGED_IN)
            rv = CKR_OK;
        }

      if (session_is_stale (rv))
        {
          forget_session (self);
          data->session_lost = TRUE;
          continue;
        }

      if (rv != CKR_OK)
        {
          if (data->operation == OPERATION_LOGIN && !_tessera_ck_rv_means_removed (rv))
            {
              data->have_new_token_info =
                functions->C_GetTokenInfo (data->slot_id, &data->new_token_info) == CKR_OK;
              set_login_error (error, rv, &data->new_token_info, data->have_new_token_info,
                               data->kind);
            }
          else
            {
              _tessera_set_ck_error (error, rv, data->operation == OPERATION_LOGIN
                                                ? _("Could not log in")
                                                : _("Could not log out"));
            }
          return rv;
        }

      if (data->operation == OPERATION_LOGIN)
        {
          data->logged_in = TRUE;
          data->session_lost = FALSE;
        }

      /* After a successful login the token clears COUNT_LOW and FINAL_TRY
       * by definition; operation_done() clears them without asking again.
       *
       * A login reveals the private objects and changes nothing else:
       * the public ones read before it stay as they are. */
      if (data->private_only)
        {
          data->objects = _tessera_object_read_private (functions, self->session, &data->token_info,
                                                        cancellable, &rv, error);
          if (data->objects != NULL)
            return CKR_OK;

          /* A module that cannot search by CKA_PRIVATE is read whole */
          if (rv == CKR_ATTRIBUTE_TYPE_INVALID || rv == CKR_ATTRIBUTE_VALUE_INVALID ||
              rv == CKR_TEMPLATE_INCONSISTENT)
            {
              g_debug ("Could not find the private objects alone (%s); reading every object",
                       _tessera_ck_rv_name (rv));
              g_clear_error (error);
              data->private_only = FALSE;
            }
        }

      if (!data->private_only)
        data->objects = _tessera_object_read_all (functions, self->session, &data->token_info,
                                                  cancellable, &rv, error);
      if (data->objects != NULL)
        return CKR_OK;

      if (session_is_stale (rv))
        {
          forget_session (self);
          data->session_lost = TRUE;
          continue;
        }
      return rv;
    }

  return rv;
}

static void
operation_thread (GTask        *task,
                  gpointer      source_object,
                  gpointer      task_data,
                  GCancellable *cancellable)
{
  TesseraToken *self = source_object;
  OperationData *data = task_data;
  g_autoptr(GError) error = NULL;
  CK_FUNCTION_LIST *functions;
  CK_RV rv;

  functions = _tessera_module_begin (data->module);
  if (functions == NULL)
    {
      g_task_return_new_error (task, TESSERA_PKCS11_ERROR, TESSERA_PKCS11_ERROR_MODULE,
                               _("The token’s module is not loaded."));
      return;
    }

  g_mutex_lock (&self->session_lock);
  rv = operation_run (self, data, functions, cancellable, &error);
  if (_tessera_ck_rv_means_removed (rv))
    {
      forget_session (self);
      data->removed = TRUE;
    }
  g_mutex_unlock (&self->session_lock);

  _tessera_module_end (data->module);

  /* When the module's process stopped, say so rather than "device error". */
  if (error != NULL)
    _tessera_module_explain_failure (data->module, &error);

  /* Whether OpenSSH takes an Ed25519 key depends on its version: when the
   * token holds one, learn it here (`ssh -V`, or the cache) rather than on
   * the main thread.  No other verdict needs it. */
  for (guint i = 0; data->objects != NULL && i < data->objects->len; i++)
    if (tessera_object_get_key_type (g_ptr_array_index (data->objects, i)) == TESSERA_KEY_TYPE_ED25519)
      {
        tessera_openssh_get_version (NULL, NULL);
        break;
      }

  if (error != NULL)
    g_task_return_error (task, g_steal_pointer (&error));
  else
    g_task_return_boolean (task, TRUE);
}

static void
operation_done (GObject      *source_object,
                GAsyncResult *result,
                gpointer      user_data)
{
  TesseraToken *self = TESSERA_TOKEN (source_object);
  g_autoptr(GTask) outer = user_data;
  OperationData *data = g_task_get_task_data (G_TASK (result));
  g_autoptr(GError) error = NULL;

  /* Apply what the worker learnt, even on failure: a failed login still
   * tells the new PIN state. */
  if (data->have_new_token_info)
    _tessera_token_update_info (self, self->slot_id, &data->new_token_info);

  if (data->removed)
    _tessera_token_mark_removed (self);
  else if (data->session_lost)
    token_set_logged_in (self, FALSE);

  /* A TPM refuses PINs unchecked while it is locked out; a PIN it checked,
   * right or wrong, shows the lockout is over. */
  if (data->login_rv == CKR_PIN_LOCKED)
    _tessera_token_note_lockout (self, TRUE);
  else if (data->login_rv == CKR_OK || data->login_rv == CKR_PIN_INCORRECT)
    _tessera_token_note_lockout (self, FALSE);

  if (!g_task_propagate_boolean (G_TASK (result), &error))
    {
      g_task_return_error (outer, g_steal_pointer (&error));
      return;
    }

  if (data->operation == OPERATION_LOGIN)
    {
      TesseraTokenState cleared = TESSERA_TOKEN_STATE_USER_PIN_COUNT_LOW |
                                  TESSERA_TOKEN_STATE_USER_PIN_FINAL_TRY;

      if (self->state & cleared)
        {
          self->token_info.flags &= ~(CKF_USER_PIN_COUNT_LOW | CKF_USER_PIN_FINAL_TRY);
          self->state &= ~cleared;
          g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_STATE]);
        }
      token_set_logged_in (self, TRUE);
    }
  else if (data->operation == OPERATION_LOGOUT)
    token_set_logged_in (self, FALSE);

  if (data->private_only)
    token_merge_private_objects (self, data->objects, self->logged_in);
  else
    token_set_objects (self, data->objects, self->logged_in);

  g_task_return_boolean (outer, TRUE);
}

static void
run_operation (TesseraToken        *self,
               Operation            operation,
               const char          *pin,
               GCancellable        *cancellable,
               GAsyncReadyCallback  callback,
               gpointer             user_data,
               gpointer             source_tag)
{
  g_autoptr(GTask) outer = NULL;
  g_autoptr(GTask) inner = NULL;
  OperationData *data;

  outer = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (outer, source_tag);

  data = g_new0 (OperationData, 1);
  data->operation = operation;
  data->module = g_object_ref (self->module);
  data->slot_id = self->slot_id;
  data->token_info = self->token_info;
  data->protected_path = (self->state & TESSERA_TOKEN_STATE_PROTECTED_AUTH_PATH) != 0;
  data->kind = self->kind;
  data->login_rv = CKR_FUNCTION_NOT_SUPPORTED;
  /* A token never read has public objects to read too */
  data->private_only = operation == OPERATION_LOGIN && self->objects_loaded;
  if (pin != NULL)
    {
      data->pin_len = strlen (pin);
      data->pin = g_malloc (data->pin_len + 1);
      memcpy (data->pin, pin, data->pin_len + 1);
    }

  if (self->state & TESSERA_TOKEN_STATE_REMOVED)
    {
      operation_data_free (data);
      g_task_return_new_error (outer, TESSERA_PKCS11_ERROR, TESSERA_PKCS11_ERROR_TOKEN_REMOVED,
                               _("The token was removed."));
      return;
    }

  if (operation == OPERATION_LOGIN && !data->protected_path && pin != NULL &&
      (data->pin_len < self->token_info.ulMinPinLen ||
       (self->token_info.ulMaxPinLen > 0 && data->pin_len > self->token_info.ulMaxPinLen)))
    {
      g_task_return_new_error (outer, TESSERA_PKCS11_ERROR, TESSERA_PKCS11_ERROR_PIN_INVALID,
                               _("The PIN must be %lu to %lu characters long. Nothing was sent to the token."),
                               (unsigned long) self->token_info.ulMinPinLen,
                               (unsigned long) self->token_info.ulMaxPinLen);
      operation_data_free (data);
      return;
    }

  if (operation == OPERATION_LOGIN && pin == NULL && !data->protected_path)
    {
      operation_data_free (data);
      g_task_return_new_error (outer, TESSERA_PKCS11_ERROR, TESSERA_PKCS11_ERROR_PIN_INVALID,
                               _("Enter the PIN to log in."));
      return;
    }

  inner = g_task_new (self, cancellable, operation_done, g_steal_pointer (&outer));
  g_task_set_source_tag (inner, source_tag);
  g_task_set_task_data (inner, data, (GDestroyNotify) operation_data_free);
  g_task_run_in_thread (inner, operation_thread);
}

/**
 * tessera_token_read_objects_async:
 *
 * Reads every object the token shows: public objects, and private ones
 * too once logged in.  The object, key and certificate lists change when
 * it completes, by what changed only: an object that reads the same
 * keeps its #TesseraObject and its place, and a key of the same objects
 * with the same verdict its #TesseraKey.  A read that finds the token as
 * it was emits no items-changed.
 */
void
tessera_token_read_objects_async (TesseraToken        *self,
                                  GCancellable        *cancellable,
                                  GAsyncReadyCallback  callback,
                                  gpointer             user_data)
{
  g_return_if_fail (TESSERA_IS_TOKEN (self));

  run_operation (self, OPERATION_READ, NULL, cancellable, callback, user_data,
                 tessera_token_read_objects_async);
}

gboolean
tessera_token_read_objects_finish (TesseraToken  *self,
                                   GAsyncResult  *result,
                                   GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  return g_task_propagate_boolean (G_TASK (result), error);
}

/**
 * tessera_token_login_async:
 * @pin: (nullable): the user PIN; %NULL for a token with a PIN pad
 *
 * Logs in with the user PIN, then reads the private objects the login
 * reveals and merges them into the lists, as a read does (every object,
 * when the token's objects were never read).  The PIN is copied
 * and the copy is wiped when the login is done.  A wrong PIN fails with
 * %TESSERA_PKCS11_ERROR_PIN_INCORRECT and a message that says what the
 * token tells of the tries left.  The caller asks the user before a
 * login when the state has %TESSERA_TOKEN_STATE_USER_PIN_FINAL_TRY.
 */
void
tessera_token_login_async (TesseraToken        *self,
                           const char          *pin,
                           GCancellable        *cancellable,
                           GAsyncReadyCallback  callback,
                           gpointer             user_data)
{
  g_autoptr(GError) error = NULL;

  g_return_if_fail (TESSERA_IS_TOKEN (self));

  if (self->state & TESSERA_TOKEN_STATE_USER_PIN_LOCKED)
    {
      g_task_report_new_error (self, callback, user_data, tessera_token_login_async,
                               TESSERA_PKCS11_ERROR, TESSERA_PKCS11_ERROR_PIN_LOCKED,
                               _("The PIN is locked. It must be unblocked with the SO PIN."));
      return;
    }

  if (!tessera_check_pin_text (pin, &error))
    {
      g_task_report_error (self, callback, user_data, tessera_token_login_async, g_steal_pointer (&error));
      return;
    }

  run_operation (self, OPERATION_LOGIN, pin, cancellable, callback, user_data,
                 tessera_token_login_async);
}

gboolean
tessera_token_login_finish (TesseraToken  *self,
                            GAsyncResult  *result,
                            GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  return g_task_propagate_boolean (G_TASK (result), error);
}

void
tessera_token_logout_async (TesseraToken        *self,
                            GCancellable        *cancellable,
                            GAsyncReadyCallback  callback,
                            gpointer             user_data)
{
  g_return_if_fail (TESSERA_IS_TOKEN (self));

  run_operation (self, OPERATION_LOGOUT, NULL, cancellable, callback, user_data,
                 tessera_token_logout_async);
}

gboolean
tessera_token_logout_finish (TesseraToken  *self,
                             GAsyncResult  *result,
                             GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  return g_task_propagate_boolean (G_TASK (result), error);
}

/* Getters ------------------------------------------------------------------ */

TesseraModule *
tessera_token_get_module (TesseraToken *self)
{
  g_return_val_if_fail (TESSERA_IS_TOKEN (self), NULL);
  return self->module;
}

/**
 * tessera_token_get_uri:
 *
 * Returns: the token's PKCS#11 URI, its identity
 */
const char *
tessera_token_get_uri (TesseraToken *self)
{
  g_return_val_if_fail (TESSERA_IS_TOKEN (self), NULL);
  return self->uri;
}

const char *
tessera_token_get_label (TesseraToken *self)
{
  g_return_val_if_fail (TESSERA_IS_TOKEN (self), NULL);
  return self->label;
}

/**
 * tessera_token_get_display_name:
 *
 * Returns: the label, or a description of a blank token
 */
const char *
tessera_token_get_display_name (TesseraToken *self)
{
  g_return_val_if_fail (TESSERA_IS_TOKEN (self), NULL);
  return self->display_name;
}

const char *
tessera_token_get_manufacturer (TesseraToken *self)
{
  g_return_val_if_fail (TESSERA_IS_TOKEN (self), NULL);
  return self->manufacturer;
}

const char *
tessera_token_get_model (TesseraToken *self)
{
  g_return_val_if_fail (TESSERA_IS_TOKEN (self), NULL);
  return self->model;
}

const char *
tessera_token_get_serial (TesseraToken *self)
{
  g_return_val_if_fail (TESSERA_IS_TOKEN (self), NULL);
  return self->serial;
}

const char *
tessera_token_get_hardware_version (TesseraToken *self)
{
  g_return_val_if_fail (TESSERA_IS_TOKEN (self), NULL);
  return self->hardware_version;
}

const char *
tessera_token_get_firmware_version (TesseraToken *self)
{
  g_return_val_if_fail (TESSERA_IS_TOKEN (self), NULL);
  return self->firmware_version;
}

gulong
tessera_token_get_slot_id (TesseraToken *self)
{
  g_return_val_if_fail (TESSERA_IS_TOKEN (self), 0);
  return self->slot_id;
}

guint
tessera_token_get_min_pin_length (TesseraToken *self)
{
  g_return_val_if_fail (TESSERA_IS_TOKEN (self), 0);
  return self->token_info.ulMinPinLen;
}

guint
tessera_token_get_max_pin_length (TesseraToken *self)
{
  g_return_val_if_fail (TESSERA_IS_TOKEN (self), 0);
  return self->token_info.ulMaxPinLen;
}

TesseraTokenState
tessera_token_get_state (TesseraToken *self)
{
  g_return_val_if_fail (TESSERA_IS_TOKEN (self), TESSERA_TOKEN_STATE_NONE);
  return self->state;
}

gboolean
tessera_token_has_state (TesseraToken      *self,
                         TesseraTokenState  state)
{
  g_return_val_if_fail (TESSERA_IS_TOKEN (self), FALSE);
  return (self->state & state) == state;
}

TesseraTokenKind
tessera_token_get_kind (TesseraToken *self)
{
  g_return_val_if_fail (TESSERA_IS_TOKEN (self), TESSERA_TOKEN_KIND_SMART_CARD);
  return self->kind;
}

/**
 * tessera_token_is_tpm:
 *
 * Whether a TPM keeps the token (tpm2-pkcs11, most likely).  A TPM counts
 * wrong PINs for all its tokens together and locks out for a while after
 * a few; its tokens report no tries-left flags.
 */
gboolean
tessera_token_is_tpm (TesseraToken *self)
{
  g_return_val_if_fail (TESSERA_IS_TOKEN (self), FALSE);
  return self->kind == TESSERA_TOKEN_KIND_TPM;
}

/**
 * tessera_token_get_icon_name:
 *
 * Returns: the name of the icon for the token's kind; see
 *   tessera_token_get_icon() for one with a fallback
 */
const char *
tessera_token_get_icon_name (TesseraToken *self)
{
  g_return_val_if_fail (TESSERA_IS_TOKEN (self), NULL);

  switch (self->kind)
    {
    case TESSERA_TOKEN_KIND_USB_KEY:
      return "media-removable-symbolic";
    case TESSERA_TOKEN_KIND_TPM:
      /* A chip, as the TPM is one on the computer's board */
      return "auth-sim-symbolic";
    case TESSERA_TOKEN_KIND_SOFTWARE:
      return "dialog-password-symbolic";
    case TESSERA_TOKEN_KIND_SMART_CARD:
    default:
      return "auth-smartcard-symbolic";
    }
}

/**
 * tessera_token_get_icon:
 *
 * The token kind's icon, falling back to one every icon theme has when
 * the theme lacks it (newer Adwaita themes dropped some device icons).
 *
 * Returns: (transfer full): a #GThemedIcon
 */
GIcon *
tessera_token_get_icon (TesseraToken *self)
{
  const char *names[] = { NULL, NULL, NULL };

  g_return_val_if_fail (TESSERA_IS_TOKEN (self), NULL);

  names[0] = tessera_token_get_icon_name (self);
  if (self->kind == TESSERA_TOKEN_KIND_TPM)
    names[1] = "computer-symbolic";
  else if (!g_str_equal (names[0], "auth-smartcard-symbolic"))
    names[1] = "auth-smartcard-symbolic";

  return g_themed_icon_new_from_names ((char **) names, -1);
}

/**
 * tessera_token_get_kind_name:
 *
 * Returns: what kind of device the token most likely is, in words
 */
const char *
tessera_token_get_kind_name (TesseraToken *self)
{
  g_return_val_if_fail (TESSERA_IS_TOKEN (self), NULL);

  switch (self->kind)
    {
    case TESSERA_TOKEN_KIND_USB_KEY:
      return _("USB security key");
    case TESSERA_TOKEN_KIND_TPM:
      return _("TPM, the computer’s security chip");
    case TESSERA_TOKEN_KIND_SOFTWARE:
      return _("Software token");
    case TESSERA_TOKEN_KIND_SMART_CARD:
    default:
      return _("Smart card");
    }
}

/**
 * tessera_token_get_locked_out_since:
 *
 * A TPM's lockout is seen only when a login is refused.  This is when the
 * last login to any of the TPM's tokens found it locked out; a login
 * since that got a PIN checked forgets it.  The lockout may have cleared
 * by itself since.
 *
 * Returns: (transfer full) (nullable): the local time, or %NULL when the
 *   token is not a TPM or none was seen
 */
GDateTime *
tessera_token_get_locked_out_since (TesseraToken *self)
{
  g_return_val_if_fail (TESSERA_IS_TOKEN (self), NULL);

  if (!(self->state & TESSERA_TOKEN_STATE_LOCKED_OUT) || self->locked_out_since == 0)
    return NULL;
  return g_date_time_new_from_unix_local (self->locked_out_since);
}

/**
 * tessera_token_describe_state:
 *
 * Returns: (transfer full): the one state that matters most, in a few
 *   words, for the sidebar: "PIN locked", "Not initialized"
 */
char *
tessera_token_describe_state (TesseraToken *self)
{
  TesseraTokenState state;

  g_return_val_if_fail (TESSERA_IS_TOKEN (self), NULL);

  state = self->state;
  if (state & TESSERA_TOKEN_STATE_REMOVED)
    return g_strdup (_("Removed"));
  if (state & TESSERA_TOKEN_STATE_NOT_INITIALIZED)
    return g_strdup (_("Not initialized"));
  if (state & TESSERA_TOKEN_STATE_LOCKED_OUT)
    return g_strdup (_("TPM locked out; clears by itself"));
  if (state & TESSERA_TOKEN_STATE_USER_PIN_LOCKED)
    return g_strdup (_("PIN locked"));
  if (state & TESSERA_TOKEN_STATE_USER_PIN_FINAL_TRY)
    return g_strdup (_("1 PIN try left"));
  if (state & TESSERA_TOKEN_STATE_USER_PIN_COUNT_LOW)
    return g_strdup (_("A few PIN tries left"));
  if (state & TESSERA_TOKEN_STATE_USER_PIN_NOT_SET)
    return g_strdup (_("No user PIN set"));
  if (state & (TESSERA_TOKEN_STATE_USER_PIN_TO_BE_CHANGED | TESSERA_TOKEN_STATE_SO_PIN_TO_BE_CHANGED))
    return g_strdup (_("PIN must be changed"));
  if (state & TESSERA_TOKEN_STATE_SO_PIN_LOCKED)
    return g_strdup (_("SO PIN locked"));
  if (self->logged_in)
    return g_strdup (_("Logged in"));
  if (self->kind == TESSERA_TOKEN_KIND_SOFTWARE)
    return g_strdup (_("Software token"));
  if (state & TESSERA_TOKEN_STATE_WRITE_PROTECTED)
    return g_strdup (_("Write-protected"));
  return g_strdup (_("Ready"));
}

/* The states that ask for something to be done: a PIN to set, change or
 * unblock, tries running out, a lockout, a blank or removed token.  The
 * others (a login is needed, a PIN pad, write protection, how a TPM
 * counts) describe the token and ask nothing. */
#define ATTENTION_STATES (TESSERA_TOKEN_STATE_REMOVED | TESSERA_TOKEN_STATE_NOT_INITIALIZED | \
                          TESSERA_TOKEN_STATE_USER_PIN_NOT_SET | TESSERA_TOKEN_STATE_USER_PIN_TO_BE_CHANGED | \
                          TESSERA_TOKEN_STATE_USER_PIN_COUNT_LOW | TESSERA_TOKEN_STATE_USER_PIN_FINAL_TRY | \
                          TESSERA_TOKEN_STATE_USER_PIN_LOCKED | TESSERA_TOKEN_STATE_SO_PIN_TO_BE_CHANGED | \
                          TESSERA_TOKEN_STATE_SO_PIN_COUNT_LOW | TESSERA_TOKEN_STATE_SO_PIN_FINAL_TRY | \
                          TESSERA_TOKEN_STATE_SO_PIN_LOCKED | TESSERA_TOKEN_STATE_LOCKED_OUT)

static GStrv list_states (TesseraToken *self, gboolean attention_only);

/**
 * tessera_token_list_state_descriptions:
 *
 * Returns: (transfer full): every state that applies, each a sentence
 */
GStrv
tessera_token_list_state_descriptions (TesseraToken *self)
{
  g_return_val_if_fail (TESSERA_IS_TOKEN (self), NULL);
  return list_states (self, FALSE);
}

/**
 * tessera_token_list_attention_descriptions:
 *
 * Returns: (transfer full): the states that ask for something to be done
 *   (a locked or factory PIN, tries running out, a lockout, a blank
 *   token) or for care (how a TPM locks out), each a sentence; empty
 *   when the token asks for nothing
 */
GStrv
tessera_token_list_attention_descriptions (TesseraToken *self)
{
  g_return_val_if_fail (TESSERA_IS_TOKEN (self), NULL);
  return list_states (self, TRUE);
}

static GStrv
list_states (TesseraToken *self,
             gboolean      attention_only)
{
  static const struct { TesseraTokenState state; const char *text; } texts[] = {
    { TESSERA_TOKEN_STATE_REMOVED, N_("The token was removed.") },
    { TESSERA_TOKEN_STATE_NOT_INITIALIZED, N_("The token is not initialized.") },
    { TESSERA_TOKEN_STATE_USER_PIN_NOT_SET, N_("The user PIN is not set.") },
    { TESSERA_TOKEN_STATE_USER_PIN_TO_BE_CHANGED, N_("The user PIN must be changed.") },
    { TESSERA_TOKEN_STATE_USER_PIN_COUNT_LOW, N_("A wrong user PIN was entered; only a few tries are left.") },
    { TESSERA_TOKEN_STATE_USER_PIN_FINAL_TRY, N_("One user PIN try is left before the PIN locks.") },
    { TESSERA_TOKEN_STATE_USER_PIN_LOCKED, N_("The user PIN is locked.") },
    { TESSERA_TOKEN_STATE_SO_PIN_TO_BE_CHANGED, N_("The SO PIN must be changed.") },
    { TESSERA_TOKEN_STATE_SO_PIN_COUNT_LOW, N_("A wrong SO PIN was entered; only a few tries are left.") },
    { TESSERA_TOKEN_STATE_SO_PIN_FINAL_TRY, N_("One SO PIN try is left before the SO PIN locks.") },
    { TESSERA_TOKEN_STATE_SO_PIN_LOCKED, N_("The SO PIN is locked.") },
    { TESSERA_TOKEN_STATE_PROTECTED_AUTH_PATH, N_("PINs are entered on the reader’s PIN pad.") },
    { TESSERA_TOKEN_STATE_WRITE_PROTECTED, N_("The token is write-protected.") },
    { TESSERA_TOKEN_STATE_LOGIN_REQUIRED, N_("Some functions need a login with the user PIN.") },
  };
  TesseraTokenState state;
  GPtrArray *lines;

  state = self->state;
  if (attention_only)
    state &= ATTENTION_STATES;
  /* A blank slot's PIN flags describe no PIN anyone set (SoftHSM reports
   * its empty slot's SO PIN as locked and to be changed): initialising
   * the token is the one thing to say. */
  if (self->state & TESSERA_TOKEN_STATE_NOT_INITIALIZED)
    state &= ~(TESSERA_TOKEN_STATE_USER_PIN_NOT_SET | TESSERA_TOKEN_STATE_USER_PIN_TO_BE_CHANGED |
               TESSERA_TOKEN_STATE_USER_PIN_COUNT_LOW | TESSERA_TOKEN_STATE_USER_PIN_FINAL_TRY |
               TESSERA_TOKEN_STATE_USER_PIN_LOCKED | TESSERA_TOKEN_STATE_SO_PIN_TO_BE_CHANGED |
               TESSERA_TOKEN_STATE_SO_PIN_COUNT_LOW | TESSERA_TOKEN_STATE_SO_PIN_FINAL_TRY |
               TESSERA_TOKEN_STATE_SO_PIN_LOCKED | TESSERA_TOKEN_STATE_LOGIN_REQUIRED);

  lines = g_ptr_array_new ();

  if (state & TESSERA_TOKEN_STATE_LOCKED_OUT && !(state & TESSERA_TOKEN_STATE_NOT_INITIALIZED))
    {
      g_autoptr(GDateTime) since = tessera_token_get_locked_out_since (self);
      g_autofree char *when = since != NULL ? g_date_time_format (since, "%Y-%m-%d %H:%M") : NULL;

      /* Translators: %s is a date and time */
      g_ptr_array_add (lines, g_strdup_printf (_("A login on %s found the TPM locked out after too many "
                                                 "wrong PINs on its tokens. The lockout clears by itself "
                                                 "after the TPM’s recovery time, or at once with its "
                                                 "lockout authorization; no SO PIN ends it."),
                                               when != NULL ? when : "?"));
    }

  for (guint i = 0; i < G_N_ELEMENTS (texts); i++)
    if (state & texts[i].state)
      g_ptr_array_add (lines, g_strdup (_(texts[i].text)));

  /* A warning before any PIN is typed: it asks for care */
  if (self->kind == TESSERA_TOKEN_KIND_TPM && !(state & TESSERA_TOKEN_STATE_NOT_INITIALIZED))
    g_ptr_array_add (lines, g_strdup (_("The TPM does not say how many PIN tries are left. It counts "
                                        "wrong PINs for all its tokens together, and after a few it "
                                        "locks out: it refuses every PIN until its recovery time has "
                                        "passed.")));
  g_ptr_array_add (lines, NULL);

  return (GStrv) g_ptr_array_free (lines, FALSE);
}

gboolean
tessera_token_get_logged_in (TesseraToken *self)
{
  g_return_val_if_fail (TESSERA_IS_TOKEN (self), FALSE);
  return self->logged_in;
}

gboolean
tessera_token_get_objects_loaded (TesseraToken *self)
{
  g_return_val_if_fail (TESSERA_IS_TOKEN (self), FALSE);
  return self->objects_loaded;
}

/**
 * tessera_token_get_objects:
 *
 * Returns: (transfer none): a #GListModel of every #TesseraObject read
 */
GListModel *
tessera_token_get_objects (TesseraToken *self)
{
  g_return_val_if_fail (TESSERA_IS_TOKEN (self), NULL);
  return G_LIST_MODEL (self->objects);
}

/**
 * tessera_token_get_keys:
 *
 * Returns: (transfer none): a #GListModel of #TesseraKey
 */
GListModel *
tessera_token_get_keys (TesseraToken *self)
{
  g_return_val_if_fail (TESSERA_IS_TOKEN (self), NULL);
  return G_LIST_MODEL (self->keys);
}

/**
 * tessera_token_find_key:
 * @id: (nullable): a CKA_ID
 *
 * Finds the key with this ID among the keys last read.  After a login or
 * a change, a key that changed is a new #TesseraKey: this finds it again.
 *
 * Returns: (transfer full) (nullable): the key, or %NULL for none or an
 *   empty @id
 */
TesseraKey *
tessera_token_find_key (TesseraToken *self,
                        GBytes       *id)
{
  guint n;

  g_return_val_if_fail (TESSERA_IS_TOKEN (self), NULL);

  if (id == NULL || g_bytes_get_size (id) == 0)
    return NULL;

  n = g_list_model_get_n_items (G_LIST_MODEL (self->keys));
  for (guint i = 0; i < n; i++)
    {
      g_autoptr(TesseraKey) key = g_list_model_get_item (G_LIST_MODEL (self->keys), i);
      GBytes *key_id = tessera_key_get_id (key);

      if (key_id != NULL && g_bytes_equal (key_id, id))
        return g_steal_pointer (&key);
    }
  return NULL;
}

/**
 * tessera_token_get_certificates:
 *
 * Returns: (transfer none): a #GListModel of certificate #TesseraObject
 */
GListModel *
tessera_token_get_certificates (TesseraToken *self)
{
  g_return_val_if_fail (TESSERA_IS_TOKEN (self), NULL);
  return G_LIST_MODEL (self->certificates);
}

/**
 * tessera_token_get_other_objects:
 *
 * Returns: (transfer none): data objects, secret keys and anything else
 */
GListModel *
tessera_token_get_other_objects (TesseraToken *self)
{
  g_return_val_if_fail (TESSERA_IS_TOKEN (self), NULL);
  return G_LIST_MODEL (self->other_objects);
}

/* The token's information as its module last gave it, padding and all. */
const CK_TOKEN_INFO *
_tessera_token_peek_info (TesseraToken *self)
{
  return &self->token_info;
}
