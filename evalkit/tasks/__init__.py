"""Tasks: units of work a runner executes. Each module runs alone with a task JSON file."""
