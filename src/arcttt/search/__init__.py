"""Program search: a DSL over grids whose programs are verified on the demonstrations.

- program: programs as readable text that parses back (`crop_content(flip(x, axis='h'))`);
- ops: the step catalogue, the generator's train families and the dsl's extras (arcttt.dsl);
- learners: last steps whose parameters come from the demonstrations (colour maps, local rules, ...);
- engine: the breadth-first search with deduplicated states and a budget.
"""
