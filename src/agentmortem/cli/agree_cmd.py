"""Commands of this module are being written."""
