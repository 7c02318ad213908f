from whitenoise.storage import CompressedManifestStaticFilesStorage


class StaticFilesStorage(CompressedManifestStaticFilesStorage):
    """Hashed, compressed static files; ES module imports are rewritten to hashed names too,
    so every script can be cached forever."""

    support_js_module_import_aggregation = True
