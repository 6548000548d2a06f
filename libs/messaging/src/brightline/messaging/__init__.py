"""brightline.messaging"""
