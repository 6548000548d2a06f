"""brightline.intake"""
