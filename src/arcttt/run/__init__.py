"""Running the method over a dataset: the solver of one task, the run directory, the HTML report and
the executors that decide where each task runs."""
