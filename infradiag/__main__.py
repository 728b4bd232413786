from infradiag.cli import script

script()
