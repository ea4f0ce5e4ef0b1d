"""Memoir's Qt interface: windows, dialogs and the bridges from the core to Qt signals."""
