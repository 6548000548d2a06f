"""brightline.sla_monitor"""
