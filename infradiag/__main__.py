from infradiag.cli import main

main()
