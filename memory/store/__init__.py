"""SQLite, the source of truth: conversations and messages, memory items and whose words they hold,
migrations, forgetting, export and import.
"""
