"""brightline.callback"""
