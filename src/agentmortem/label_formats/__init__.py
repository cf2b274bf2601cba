"""How failure labels from outside agentmortem are written, and how each form becomes an `Annotation`.

`rows`: the label row `import-labels` reads (and the labelling page writes); `embedded`: labels that travel inside a
trace's source record (MAD, MAST human labels, Who&When); `agentrx`: AgentRx ground-truth files. These modules know
the data model and the taxonomies only, so readers and the label importer (`agentmortem.labels`) can both use them.
"""
