"""brightline.console"""
