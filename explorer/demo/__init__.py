"""The demo model that ships with the app: how it is built, and how it is assembled at load."""
