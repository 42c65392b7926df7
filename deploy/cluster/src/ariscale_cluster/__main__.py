import sys

from ariscale_cluster.cli import main

sys.exit(main())
