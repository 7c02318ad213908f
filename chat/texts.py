"""What the site tells people when something is refused or goes wrong, said in one place.

Every text here is shown by more than one part of the site (the websocket and the HTTP
views, a generation and the sweep that finishes its work for a dead process), or is a
status an answer is saved with; each part imports it instead of writing its own copy.
"""

# Lookups: another user's object answers exactly like a missing one.
CONVERSATION_NOT_FOUND = "Conversation not found."
MESSAGE_NOT_FOUND = "Message not found."
IMAGE_NOT_FOUND = "Image not found: attach it again."
DOCUMENT_NOT_FOUND = "Document not found."

# An upload over the size limit: refused by the page before sending ("photo.png: the
# image is…"), and by the server. "{size}" and "{limit}" are megabytes, one decimal.
IMAGE_TOO_LARGE = "the image is {size} MB; the limit is {limit} MB."

# A conversation is changed by one thing at a time.
BUSY = "An answer is still being written in this conversation: stop it first."
PRESET_NOT_FOUND = "Preset not found."
PROJECT_NOT_FOUND = "Project not found."
PROJECT_ID_INVALID = 'Send {"project_id": a project\'s id} or {"project_id": null}.'
SHARE_NOT_FOUND = "This link does not exist, or its owner stopped sharing it."
# The user's data page (chat/web/your_data.py).
DATA_DELETE_UNCONFIRMED = "Tick the box to say you understand that this cannot be undone."
DATA_DELETE_BUSY = "An answer is still being written for you: stop it or wait, then try again."
DATA_DELETED = "Deleted: {conversations} conversations and {documents} documents."
IMPORT_NO_FILE = "Choose a file to import."
IMPORT_REFUSED = "Nothing was imported. {reason}"
IMPORTED = "Imported {conversations} conversations ({messages} messages)."
# A pin or archive request without its true or false.
FLAG_INVALID = 'Send {{"{name}": true}} or {{"{name}": false}}.'

# The database did not answer (a restart, a failover).
UNAVAILABLE_SEND = (
    "The database is not answering, so your message was not saved. "
    "It is still in the box: try again in a moment."
)
UNAVAILABLE = "The database is not answering: try again in a moment."

# Why an answer ended without being complete, saved with it and shown under it.
ANSWER_INTERRUPTED = "The server stopped while this answer was being written."
ANSWER_CUT_SHORT = "The provider ended the answer before it was finished."
ANSWER_NOT_SAVED = "chatsite could not save this answer."

# What a tool's call tells the model (and the page shows) when it did not run as asked.
TOOL_DECLINED = "The user declined this tool call."
TOOL_NO_DECISION = "Nobody approved this tool call in time, so it did not run."
TOOL_NOT_OFFERED = "No tool named {name!r} is available in this conversation."
TOOL_BAD_ARGUMENTS = "The arguments were not a JSON object: {reason}."
TOOL_UNAVAILABLE = "The tool's server could not be reached or did not answer in time."
TOOL_CANCELLED = "The call was cancelled."
TOOL_TOO_MANY = "Only {limit} tool calls run at once; this one did not run. Call it again."
TOOL_ROUNDS_EXHAUSTED = (
    "The model kept calling tools after {rounds} rounds, so chatsite stopped the answer."
)
TOOL_NOT_WAITING = "This answer is no longer waiting for a decision."
