"""Shoppers' data under the GDPR: what the plugin holds about an e-mail address, exported or erased."""
