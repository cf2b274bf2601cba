"""Failure taxonomies as data: MAST built in, custom ones loaded from YAML of the same schema."""

from agentmortem.taxonomy.taxonomy import (
    Category,
    FailureMode,
    Taxonomy,
    TaxonomyError,
    built_in,
    load_taxonomy,
    mast,
)

__all__ = ["Category", "FailureMode", "Taxonomy", "TaxonomyError", "built_in", "load_taxonomy", "mast"]
