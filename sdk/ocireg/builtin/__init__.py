"""Built-in hook implementations, registered by name in ``get_plugin_manager``."""
