"""Case material: uploads that meet clocks, where the bytes live, what a file really is."""
