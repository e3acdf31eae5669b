"""What ships: reading and compiling the rule base (model, compiler, inventory, content-keyed cache)."""
