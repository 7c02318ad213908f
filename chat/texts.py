"""What the site tells people when something is refused or goes wrong, said in one place.

Every text here is shown by more than one part of the site (the websocket and the HTTP
views, a generation and the sweep that finishes its work for a dead process), or is a
status an answer is saved with; each part imports it instead of writing its own copy.

Texts shown to people are lazy translations: each is translated into the language active
when it is used (the request's, or the websocket's), and a text with "{name}" placeholders
is translated first and then filled (`TEXT.format(...)` on the lazy text does that).
Texts saved with an answer (why it ended, what a tool call told the model) stay English in
the database, since the model reads them too and a saved text has no reader's language;
they are marked with gettext_noop for the catalogue and translated where they are shown
(`shown`).
"""

from django.utils.formats import number_format
from django.utils.translation import gettext, gettext_noop
from django.utils.translation import gettext_lazy as _

# Lookups: another user's object answers exactly like a missing one.
CONVERSATION_NOT_FOUND = _("Conversation not found.")
MESSAGE_NOT_FOUND = _("Message not found.")
IMAGE_NOT_FOUND = _("Image not found: attach it again.")
DOCUMENT_NOT_FOUND = _("Document not found.")

# An upload over the size limit: refused by the page before sending ("photo.png: the
# image is…"), and by the server. "{size}" and "{limit}" are megabytes, one decimal.
IMAGE_TOO_LARGE = _("the image is {size} MB; the limit is {limit} MB.")

# An upload form sent without its file.
NO_FILE = _("No file was sent.")

# A name (a conversation's, a preset's, a project's) longer than its column.
NAME_EMPTY = _("The name is empty.")
NAME_TOO_LONG = _("The name is {length} characters; the limit is {limit}.")

# A conversation is changed by one thing at a time.
BUSY = _("An answer is still being written in this conversation: stop it first.")
PRESET_NOT_FOUND = _("Preset not found.")
PROJECT_NOT_FOUND = _("Project not found.")
PROJECT_ID_INVALID = _('Send {"project_id": a project\'s id} or {"project_id": null}.')
SHARE_NOT_FOUND = _("This link does not exist, or its owner stopped sharing it.")
# The user's data page (chat/web/your_data.py).
DATA_DELETE_UNCONFIRMED = _("Tick the box to say you understand that this cannot be undone.")
DATA_DELETE_BUSY = _("An answer is still being written for you: stop it or wait, then try again.")
DATA_DELETED = _("Deleted: {conversations} conversations and {documents} documents.")
IMPORT_NO_FILE = _("Choose a file to import.")
IMPORT_REFUSED = _("Nothing was imported. {reason}")
IMPORTED = _("Imported {conversations} conversations ({messages} messages).")
# A pin or archive request without its true or false.
FLAG_INVALID = _('Send {{"{name}": true}} or {{"{name}": false}}.')

# The database did not answer (a restart, a failover).
UNAVAILABLE_SEND = _(
    "The database is not answering, so your message was not saved. "
    "It is still in the box: try again in a moment."
)
UNAVAILABLE = _("The database is not answering: try again in a moment.")

# Why an answer ended without being complete, saved with it and shown under it.
ANSWER_INTERRUPTED = gettext_noop("The server stopped while this answer was being written.")
ANSWER_CUT_SHORT = gettext_noop("The provider ended the answer before it was finished.")
ANSWER_NOT_SAVED = gettext_noop("chatsite could not save this answer.")
ANSWER_FAILED = gettext_noop("chatsite failed while writing this answer.")

# What a tool's call tells the model (and the page shows) when it did not run as asked.
# Those filled with a name or a number are not marked: the saved text, filled, is no
# longer the catalogue's, so they could not be translated where shown; they stay English.
TOOL_DECLINED = gettext_noop("The user declined this tool call.")
TOOL_NO_DECISION = gettext_noop("Nobody approved this tool call in time, so it did not run.")
TOOL_NOT_OFFERED = "No tool named {name!r} is available in this conversation."
TOOL_BAD_ARGUMENTS = "The arguments were not a JSON object: {reason}."
TOOL_UNAVAILABLE = gettext_noop("The tool's server could not be reached or did not answer in time.")
TOOL_CANCELLED = gettext_noop("The call was cancelled.")
TOOL_TOO_MANY = "Only {limit} tool calls run at once; this one did not run. Call it again."
TOOL_ROUNDS_EXHAUSTED = (
    "The model kept calling tools after {rounds} rounds, so chatsite stopped the answer."
)
# A decision sent for an answer that no longer waits for one: a refusal on the socket.
TOOL_NOT_WAITING = _("This answer is no longer waiting for a decision.")

# The provider failed in a way of its own (chat/upstream/): saved as an answer's error.
PROVIDER_NO_MODELS = gettext_noop("The provider lists no models; set LLM_MODEL to choose one.")
PROVIDER_MODELS_MALFORMED = gettext_noop("The provider's model list is malformed.")
PROVIDER_TIMEOUT = gettext_noop("Could not reach the provider in time.")
PROVIDER_REFUSED = gettext_noop("Could not connect to the provider.")
PROVIDER_EMBEDDINGS_MALFORMED = gettext_noop("The provider's embeddings answer is malformed.")
PROVIDER_ERROR = gettext_noop("The provider reported an error.")
PROVIDER_CHUNK_MALFORMED = gettext_noop("The provider sent a malformed stream chunk.")

# Every English text saved to be translated where it is shown, and only those: a tool's
# output or a provider's own message that happens to read "None" or "Error" is shown as
# the model saw it, not as some page's translation of the word.
SAVED_TEXTS = frozenset(
    {
        ANSWER_INTERRUPTED,
        ANSWER_CUT_SHORT,
        ANSWER_NOT_SAVED,
        ANSWER_FAILED,
        TOOL_DECLINED,
        TOOL_NO_DECISION,
        TOOL_UNAVAILABLE,
        TOOL_CANCELLED,
        PROVIDER_NO_MODELS,
        PROVIDER_MODELS_MALFORMED,
        PROVIDER_TIMEOUT,
        PROVIDER_REFUSED,
        PROVIDER_EMBEDDINGS_MALFORMED,
        PROVIDER_ERROR,
        PROVIDER_CHUNK_MALFORMED,
    }
)


def shown(saved: str) -> str:
    """A text saved in English (an answer's error, a tool call's result) in the language
    active now, when it is one of the texts above; any other text (a provider's own
    error, a tool's output) is shown as it was saved."""
    return gettext(saved) if saved in SAVED_TEXTS else saved


def number(value: int | float) -> str:
    """A number inside a text, written the way the active language writes it (2,232 in
    English, 2.232 in German), grouped whatever USE_THOUSAND_SEPARATOR says. A whole
    float is written as a whole number ("2", not "2.0"), as "%g" would."""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return number_format(value, force_grouping=True)
