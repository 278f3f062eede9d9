"""ASGI entry point."""
