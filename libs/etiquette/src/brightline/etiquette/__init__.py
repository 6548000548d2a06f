"""brightline.etiquette — service-language rules shared by every service that writes to customers."""
