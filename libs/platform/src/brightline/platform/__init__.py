"""brightline.platform"""
