"""Dock panels of the main window; each observes the shared InspectorState."""
