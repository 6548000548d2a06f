"""brightline.casework"""
