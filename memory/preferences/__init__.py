"""What the user wants from their assistant: preferences with consent and history, their Markdown file,
their prompt block, and learning them from edits (CIPHER).
"""
