"""brightline.contracts"""
