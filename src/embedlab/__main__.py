from embedlab.cli import main

main()
