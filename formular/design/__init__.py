"""The form designer: design drafts, their problems, edit operations, publishing and diffs.

Pure logic (``problems``, ``diff``, ``operations``) is kept apart from the parts that touch the
database (``drafts``, ``workspace``), so it can be tested without an application.
"""
