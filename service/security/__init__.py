"""Key material and personal data: key files, field encryption, blind indexes, masking."""
