from shixiang_xl.cli import main

main()
