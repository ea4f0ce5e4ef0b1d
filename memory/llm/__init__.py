"""The chat model: the engine protocol and its llama.cpp implementation, prompts under a budget, the model
file (found, described, requantized), its cache, replies that loop.
"""
