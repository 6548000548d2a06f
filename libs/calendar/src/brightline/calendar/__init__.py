"""brightline.calendar"""
