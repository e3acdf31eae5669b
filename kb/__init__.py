"""The knowledge base: rule, fact and goal declarations as data (YAML), one declaration per rule."""
