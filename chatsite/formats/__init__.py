"""Number and date formats where Django's own leave something out (FORMAT_MODULE_PATH)."""
