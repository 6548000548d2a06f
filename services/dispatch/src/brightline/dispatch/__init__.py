"""brightline.dispatch"""
