"""Answering with memories: what a reply is shown, which shown memories it used, and conversations streamed
into the store.
"""
