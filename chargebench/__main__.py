import sys

from chargebench.cli import main

sys.exit(main())
