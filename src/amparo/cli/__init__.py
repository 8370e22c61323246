"""`amparo <verb>`: one command group, one file per verb."""
